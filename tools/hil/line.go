package hil

import (
	"fmt"
	"io"
	"os"

	"github.com/creack/pty"
	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// OpenSerial opens the line to a board's console: dev at baud, 8N1.
func OpenSerial(dev string, baud int) (io.ReadWriteCloser, error) {
	p, err := serial.Open(dev, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("hil: opening %s at %d baud: %w (check the device, e.g. /dev/ttyUSB0, and that nothing else, such as a terminal program, holds it)", dev, baud, err)
	}
	return p, nil
}

// Pty is a pseudo-terminal pair: the harness talks on the controller side
// and the phone opens TTY as its console.serial.
type Pty struct {
	*os.File        // the controller side
	TTY      string // the terminal's path, e.g. /dev/pts/3
	tty      *os.File
}

// OpenPty makes a pair whose terminal is raw from the start (no echo, no
// line editing), so nothing written before the phone opens it is mangled.
// The terminal stays open until Close, so the controller side never sees
// the line hang up while the phone restarts.
func OpenPty() (*Pty, error) {
	ptm, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("hil: opening a pseudo-terminal: %w", err)
	}
	if err := makeRaw(int(tty.Fd())); err != nil {
		_ = ptm.Close()
		_ = tty.Close()
		return nil, fmt.Errorf("hil: making %s raw: %w", tty.Name(), err)
	}
	return &Pty{File: ptm, TTY: tty.Name(), tty: tty}, nil
}

// Close closes both sides.
func (p *Pty) Close() error {
	err := p.File.Close()
	if err2 := p.tty.Close(); err == nil {
		err = err2
	}
	return err
}

// makeRaw is cfmakeraw(3).
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
