package wav

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.wav")
	w, err := Create(path, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{0, 1, -1, 32767, -32768, 1234, -4321, 7}
	if err := w.Write(want[:4]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(want[4:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 16000 || a.Channels != 2 {
		t.Fatalf("got rate %d channels %d, want 16000 2", a.Rate, a.Channels)
	}
	if !slices.Equal(a.Samples, want) {
		t.Fatalf("samples %v, want %v", a.Samples, want)
	}
	if a.Frames() != 4 {
		t.Errorf("Frames() = %d, want 4", a.Frames())
	}
	fi, _ := os.Stat(path)
	if fi.Size() != headerSize+int64(2*len(want)) {
		t.Errorf("file is %d bytes, want %d", fi.Size(), headerSize+2*len(want))
	}
}

func TestFlushMakesPartialFileValid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "partial.wav")
	w, err := Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write([]int16{5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{8}); err != nil { // after the flush: not yet in the header
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(b[40:]); got != 6 {
		t.Errorf("data size after Flush = %d, want 6", got)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); got != 36+6 {
		t.Errorf("RIFF size after Flush = %d, want 42", got)
	}
	a, err := parse(path, b[:headerSize+6])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Samples, []int16{5, 6, 7}) {
		t.Errorf("samples %v, want [5 6 7]", a.Samples)
	}
}

func TestWriteAfterClose(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "c.wav"), 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "x.wav"), 0, 1); err == nil {
		t.Error("rate 0 accepted")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "x.wav"), 8000, 0); err == nil {
		t.Error("0 channels accepted")
	}
	_, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 8000, 1)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("create in missing dir = %v, want ErrNotExist", err)
	}
}

// build assembles a RIFF file from chunks, padding odd ones.
func build(chunks ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c.id...)
		b = binary.LittleEndian.AppendUint32(b, c.size(len(c.body)))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

type chunk struct {
	id   string
	body []byte
	// sizeField, if set, is written instead of the body's real size.
	sizeField *uint32
}

func (c chunk) size(n int) uint32 {
	if c.sizeField != nil {
		return *c.sizeField
	}
	return uint32(n)
}

func fmtChunk(tag, channels uint16, rate uint32, bits uint16) chunk {
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*uint32(bits)/8)
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	return chunk{id: "fmt ", body: b}
}

func dataChunk(s ...int16) chunk {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return chunk{id: "data", body: b}
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtraChunks(t *testing.T) {
	// LIST before fmt, an odd-sized chunk (padded) between fmt and data,
	// and a trailing chunk after data.
	b := build(
		chunk{id: "LIST", body: []byte("INFOISFT\x05\x00\x00\x00sox!\x00\x00")},
		fmtChunk(formatPCM, 1, 22050, 16),
		chunk{id: "odd!", body: []byte{1, 2, 3}},
		dataChunk(100, -200, 300),
		chunk{id: "id3 ", body: []byte("tagdata")},
	)
	a, err := ReadFile(writeTemp(t, "extra.wav", b))
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 22050 || a.Channels != 1 || !slices.Equal(a.Samples, []int16{100, -200, 300}) {
		t.Fatalf("got %+v", a)
	}
}

func TestExtensibleFormat(t *testing.T) {
	f := fmtChunk(formatExtensible, 1, 8000, 16)
	f.body = binary.LittleEndian.AppendUint16(f.body, 22)        // cbSize
	f.body = binary.LittleEndian.AppendUint16(f.body, 16)        // valid bits
	f.body = binary.LittleEndian.AppendUint32(f.body, 4)         // channel mask
	f.body = binary.LittleEndian.AppendUint16(f.body, formatPCM) // sub-format GUID...
	f.body = append(f.body, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71"...)
	a, err := ReadFile(writeTemp(t, "ext.wav", build(f, dataChunk(9, 8))))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Samples, []int16{9, 8}) {
		t.Errorf("samples %v, want [9 8]", a.Samples)
	}
}

func TestUnfinishedDataSize(t *testing.T) {
	for _, size := range []uint32{0, 0xFFFFFFFF, 1000} {
		d := dataChunk(1, 2, 3, 4)
		d.sizeField = &size
		a, err := ReadFile(writeTemp(t, "u.wav", build(fmtChunk(formatPCM, 1, 8000, 16), d)))
		if err != nil {
			t.Fatalf("size %#x: %v", size, err)
		}
		if !slices.Equal(a.Samples, []int16{1, 2, 3, 4}) {
			t.Errorf("size %#x: samples %v, want [1 2 3 4]", size, a.Samples)
		}
	}
}

func TestTornLastFrameDropped(t *testing.T) {
	d := dataChunk(1, 2, 3) // 3 samples in a stereo file: the last frame is torn
	a, err := ReadFile(writeTemp(t, "torn.wav", build(fmtChunk(formatPCM, 2, 8000, 16), d)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Samples, []int16{1, 2}) {
		t.Errorf("samples %v, want [1 2]", a.Samples)
	}
}

func TestBadFiles(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want []string // every part must be in the error
	}{
		{"empty.wav", nil, []string{"empty.wav", "not a WAV", "empty"}},
		{"short.wav", []byte("RIFF"), []string{"short.wav", "only 4 bytes"}},
		{"song.mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"), []string{"song.mp3", "MP3"}},
		{"clip.flac", []byte("fLaC\x00\x00\x00\x22\x00\x00\x00\x00"), []string{"clip.flac", "FLAC"}},
		{"movie.avi", []byte("RIFF\x00\x00\x00\x00AVI LIST"), []string{"movie.avi", `"AVI "`}},
		{"float.wav", build(fmtChunk(formatFloat, 1, 8000, 32), dataChunk(0, 0)), []string{"float.wav", "IEEE float", "not PCM"}},
		{"ulaw.wav", build(fmtChunk(formatMuLaw, 1, 8000, 8), dataChunk(0)), []string{"ulaw.wav", "µ-law"}},
		{"alaw.wav", build(fmtChunk(formatALaw, 1, 8000, 8), dataChunk(0)), []string{"alaw.wav", "A-law"}},
		{"b24.wav", build(fmtChunk(formatPCM, 1, 8000, 24), dataChunk(0, 0, 0)), []string{"b24.wav", "24-bit"}},
		{"b8.wav", build(fmtChunk(formatPCM, 1, 8000, 8), dataChunk(0)), []string{"b8.wav", "8-bit"}},
		{"nodata.wav", build(fmtChunk(formatPCM, 1, 8000, 16)), []string{"nodata.wav", "no data chunk"}},
		{"nofmt.wav", build(dataChunk(1, 2)), []string{"nofmt.wav", "before the fmt chunk"}},
		{"onlylist.wav", build(chunk{id: "LIST", body: []byte("INFO")}), []string{"onlylist.wav", "no fmt chunk"}},
		{"zerochan.wav", build(fmtChunk(formatPCM, 0, 8000, 16), dataChunk(1)), []string{"zerochan.wav", "0 channels"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFile(writeTemp(t, c.name, c.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "gone.wav"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "gone.wav") {
		t.Errorf("err = %v, want ErrNotExist naming gone.wav", err)
	}
}

func TestMono(t *testing.T) {
	st := &Audio{Rate: 8000, Channels: 2, Samples: []int16{10, 20, -32768, -32768, 32767, 32767, 3, -4}}
	if got, want := st.Mono(), []int16{15, -32768, 32767, 0}; !slices.Equal(got, want) {
		t.Errorf("stereo Mono() = %v, want %v", got, want)
	}
	m := &Audio{Rate: 8000, Channels: 1, Samples: []int16{1, 2}}
	if got := m.Mono(); !slices.Equal(got, m.Samples) {
		t.Errorf("mono Mono() = %v, want %v", got, m.Samples)
	}
}

func BenchmarkWrite(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "bench.wav"), 8000, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}
