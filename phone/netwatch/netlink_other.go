//go:build !linux

package netwatch

import (
	"errors"
	"io"
)

// subscribe: only Linux's netlink is followed; elsewhere the tick polls.
func subscribe() (io.ReadCloser, error) {
	return nil, errors.New("network change notifications are followed on Linux only")
}

func overflowed(error) bool { return false }
