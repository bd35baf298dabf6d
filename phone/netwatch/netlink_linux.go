package netwatch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// subscribe opens a netlink route socket on the groups that announce a
// link, an address or a route changing. Non-blocking, so the runtime's
// poller waits on it and Close ends a pending Read.
func subscribe() (io.ReadCloser, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	sa := &syscall.SockaddrNetlink{
		Family: syscall.AF_NETLINK,
		Groups: unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV4_ROUTE,
	}
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd) // the bind error is the one to report
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return os.NewFile(uintptr(fd), "netlink-route"), nil
}

// overflowed reports the kernel dropping news the socket had no room for.
func overflowed(err error) bool { return errors.Is(err, syscall.ENOBUFS) }
