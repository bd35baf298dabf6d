package wav

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Format tags from the fmt chunk (RFC 2361).
const (
	formatPCM        = 0x0001
	formatFloat      = 0x0003
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatExtensible = 0xFFFE
)

// unfinishedSize is what streaming writers put in a size field they never
// went back to fix.
const unfinishedSize = 0xFFFFFFFF

// ReadFile reads a whole 16-bit PCM WAV file. Chunks other than "fmt " and
// "data" (LIST, fact, cue ...) are skipped. A data chunk whose size is 0 or
// 0xFFFFFFFF, or runs past the end of the file, is read to the end of the
// file: that is what a recorder that was killed before fixing its header
// leaves behind.
func ReadFile(path string) (*Audio, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	return parse(path, b)
}

func parse(path string, b []byte) (*Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: %s is not a WAV file (%s); give a RIFF/WAVE file of 16-bit PCM", path, describe(b))
	}
	var (
		a      Audio
		haveFm bool
	)
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if size < 16 || int64(len(body)) < 16 {
				return nil, fmt.Errorf("wav: %s: fmt chunk is %d bytes, want at least 16: the file is damaged", path, size)
			}
			if err := parseFmt(path, body[:size], &a); err != nil {
				return nil, err
			}
			haveFm = true
		case "data":
			if !haveFm {
				return nil, fmt.Errorf("wav: %s: data chunk comes before the fmt chunk: the file is damaged", path)
			}
			if size == 0 || size == unfinishedSize || size > int64(len(body)) {
				size = int64(len(body)) // unfinished writer: read to EOF
			}
			data := body[:size]
			frame := 2 * a.Channels
			data = data[:len(data)/frame*frame] // drop a torn last frame
			a.Samples = make([]int16, len(data)/2)
			for i := range a.Samples {
				a.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return &a, nil
		}
		if size > int64(len(body)) {
			break
		}
		off += 8 + int(size) + int(size&1) // chunks are padded to even sizes
	}
	if !haveFm {
		return nil, fmt.Errorf("wav: %s has no fmt chunk: the file is damaged or truncated", path)
	}
	return nil, fmt.Errorf("wav: %s has no data chunk: the file is damaged or truncated", path)
}

func parseFmt(path string, f []byte, a *Audio) error {
	tag := binary.LittleEndian.Uint16(f[0:2])
	a.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
	a.Rate = int(binary.LittleEndian.Uint32(f[4:8]))
	bits := int(binary.LittleEndian.Uint16(f[14:16]))
	if tag == formatExtensible && len(f) >= 26 {
		tag = binary.LittleEndian.Uint16(f[24:26]) // first two bytes of the sub-format GUID
	}
	if tag != formatPCM {
		return fmt.Errorf("wav: %s is %s, not PCM; convert it to 16-bit PCM (e.g. sox in.wav -e signed -b 16 out.wav)", path, formatName(tag))
	}
	if bits != 16 {
		return fmt.Errorf("wav: %s has %d-bit samples, only 16-bit PCM is supported; convert it (e.g. sox in.wav -b 16 out.wav)", path, bits)
	}
	if a.Channels < 1 {
		return fmt.Errorf("wav: %s declares %d channels: the file is damaged", path, a.Channels)
	}
	if a.Rate < 1 {
		return fmt.Errorf("wav: %s declares a sample rate of %d: the file is damaged", path, a.Rate)
	}
	return nil
}

func formatName(tag uint16) string {
	switch tag {
	case formatFloat:
		return "IEEE float"
	case formatALaw:
		return "A-law"
	case formatMuLaw:
		return "µ-law"
	default:
		return fmt.Sprintf("format 0x%04x", tag)
	}
}

// describe says what a file that is not RIFF/WAVE looks like.
func describe(b []byte) string {
	switch {
	case len(b) == 0:
		return "it is empty"
	case len(b) < 12:
		return fmt.Sprintf("it is only %d bytes", len(b))
	case string(b[0:4]) == "RIFF":
		return fmt.Sprintf("a RIFF file of type %q", b[8:12])
	case string(b[0:4]) == "RIFX":
		return "big-endian RIFX"
	case string(b[0:4]) == "fLaC":
		return "it is FLAC"
	case string(b[0:4]) == "OggS":
		return "it is Ogg"
	case string(b[0:3]) == "ID3" || b[0] == 0xFF && b[1]&0xE0 == 0xE0:
		return "it looks like MP3"
	default:
		return fmt.Sprintf("it starts with %q", b[0:4])
	}
}
