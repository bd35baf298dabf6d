package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

const headerSize = 44

// maxData is the most sample bytes a RIFF size field can describe.
const maxData = 0xFFFFFFFF - (headerSize - 8)

// Writer writes a 16-bit PCM WAV file as samples arrive. The header's sizes
// are fixed by Flush and Close, so the file can be read while it grows.
type Writer struct {
	f        *os.File
	path     string
	channels int
	data     int64  // sample bytes written
	buf      []byte // reused encode buffer: Write allocates only to grow it
	hdr      [headerSize]byte
	closed   bool
}

// Create creates (or truncates) path and writes a header for rate and
// channels.
func Create(path string, rate, channels int) (*Writer, error) {
	if rate < 1 || channels < 1 || channels > 0xFFFF {
		return nil, fmt.Errorf("wav: create %s: rate %d and channels %d must be positive", path, rate, channels)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	w := &Writer{f: f, path: path, channels: channels}
	h := w.hdr[:]
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2)) // byte rate
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))      // block align
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	w.putSizes()
	if _, err := f.Write(h); err != nil {
		_ = f.Close() // the write's error is the one to report
		return nil, fmt.Errorf("wav: write header of %s: %w", path, err)
	}
	return w, nil
}

// Write appends interleaved samples.
func (w *Writer) Write(samples []int16) error {
	if w.closed {
		return fmt.Errorf("wav: write to %s: %w", w.path, os.ErrClosed)
	}
	n := 2 * len(samples)
	if w.data+int64(n) > maxData {
		return fmt.Errorf("wav: %s is full (a WAV file holds at most 4 GiB of samples); start a new file", w.path)
	}
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	b := w.buf[:n]
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	m, err := w.f.Write(b)
	w.data += int64(m)
	if err != nil {
		return fmt.Errorf("wav: write %s: %w", w.path, err)
	}
	return nil
}

// Flush rewrites the header's sizes so that the file, as it is now, is a
// valid WAV file.
func (w *Writer) Flush() error {
	if w.closed {
		return fmt.Errorf("wav: flush %s: %w", w.path, os.ErrClosed)
	}
	w.putSizes()
	if _, err := w.f.WriteAt(w.hdr[4:8], 4); err != nil {
		return fmt.Errorf("wav: flush %s: %w", w.path, err)
	}
	if _, err := w.f.WriteAt(w.hdr[40:44], 40); err != nil {
		return fmt.Errorf("wav: flush %s: %w", w.path, err)
	}
	return nil
}

// Close flushes the header and closes the file. Closing twice is harmless.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.closed = true
	return errors.Join(err, w.f.Close())
}

func (w *Writer) putSizes() {
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(headerSize-8+w.data))
	binary.LittleEndian.PutUint32(w.hdr[40:], uint32(w.data))
}
