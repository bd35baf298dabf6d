package media

import (
	"errors"
	"strings"
	"testing"
)

func TestCodecByName(t *testing.T) {
	for name, want := range map[string]struct {
		name string
		pt   uint8
	}{"PCMU": {"PCMU", 0}, "pcmu": {"PCMU", 0}, " PcMa ": {"PCMA", 8}} {
		c, err := CodecByName(name)
		if err != nil {
			t.Fatalf("CodecByName(%q): %v", name, err)
		}
		if c.Name() != want.name || c.PayloadType() != want.pt || c.ClockRate() != 8000 || c.SampleRate() != 8000 {
			t.Errorf("CodecByName(%q) = %s PT %d %d/%d Hz", name, c.Name(), c.PayloadType(), c.ClockRate(), c.SampleRate())
		}
	}
	_, err := CodecByName("opus")
	if !errors.Is(err, ErrUnknownCodec) {
		t.Fatalf("CodecByName(opus) = %v, want ErrUnknownCodec", err)
	}
	if !strings.Contains(err.Error(), "PCMA, PCMU") || !strings.Contains(err.Error(), `"opus"`) {
		t.Errorf("error %q should name the codec asked for and list the supported ones", err)
	}
}

func TestRegisterCodec(t *testing.T) {
	RegisterCodec("x-test", NewPCMU)
	defer func() {
		registry.Lock()
		delete(registry.m, "X-TEST")
		registry.Unlock()
	}()
	if _, err := CodecByName("X-Test"); err != nil {
		t.Fatalf("a registered codec is not found: %v", err)
	}
	if got := strings.Join(SupportedCodecs(), ","); got != "PCMA,PCMU,X-TEST" {
		t.Errorf("SupportedCodecs = %s", got)
	}
}
