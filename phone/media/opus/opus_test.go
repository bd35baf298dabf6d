//go:build cgo

package opus

import (
	"math"
	"strings"
	"testing"

	"deskphone/phone/media"

	hopus "gopkg.in/hraban/opus.v2"
)

func tone(hz float64, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(10000 * math.Sin(2*math.Pi*hz*float64(i)/Rate))
	}
	return pcm
}

func TestRegistered(t *testing.T) {
	c, err := media.CodecByName("OPUS")
	if err != nil {
		t.Fatalf("importing the package must register OPUS: %v", err)
	}
	if c.Name() != "opus" || c.ClockRate() != 48000 || c.SampleRate() != 48000 {
		t.Errorf("got %s/%d at %d Hz, want opus/48000 at 48000 Hz", c.Name(), c.ClockRate(), c.SampleRate())
	}
	if cc, ok := c.(media.ChannelCounter); !ok || cc.Channels() != 2 {
		t.Error("a=rtpmap must say opus/48000/2 (RFC 7587)")
	}
	t.Logf("libopus %s", hopus.Version())
}

func TestParams(t *testing.T) {
	p := ParseParams(" maxplaybackrate=16000; useinbandfec=1;usedtx=1; maxaveragebitrate=2000000;stereo=1;sprop-stereo=0;bogus;cbr=x")
	want := Params{MaxPlaybackRate: 16000, MaxAverageBitrate: 510000, UseInbandFEC: true, UseDTX: true, Stereo: true}
	if p != want {
		t.Errorf("ParseParams = %+v, want %+v", p, want)
	}
	if got := ParseParams(DefaultParams.String()); got != DefaultParams {
		t.Errorf("DefaultParams does not survive String/ParseParams: %q gives %+v", DefaultParams.String(), got)
	}
	s := DefaultParams.String()
	for _, kv := range []string{"maxplaybackrate=48000", "useinbandfec=1", "usedtx=0", "stereo=0", "sprop-stereo=0", "maxaveragebitrate=40000"} {
		if !strings.Contains(s, kv) {
			t.Errorf("our fmtp %q lacks %s", s, kv)
		}
	}
}

// TestFarEndConfiguresEncoder: the far end's fmtp sets FEC, DTX, the
// bitrate cap and the audio band of this call's encoder.
func TestFarEndConfiguresEncoder(t *testing.T) {
	proto := New(DefaultParams)
	cases := []struct {
		fmtp    string
		fec     bool
		dtx     bool
		bitrate int
		band    hopus.Bandwidth
	}{
		{"", false, false, Bitrate, hopus.Fullband},
		{"useinbandfec=1;usedtx=1", true, true, Bitrate, hopus.Fullband},
		{"maxaveragebitrate=12000;maxplaybackrate=8000", false, false, 12000, hopus.Narrowband},
		{"maxplaybackrate=16000", false, false, Bitrate, hopus.Wideband},
	}
	for _, tc := range cases {
		mc, err := proto.ForCall(tc.fmtp)
		if err != nil {
			t.Fatal(err)
		}
		c := mc.(*Codec)
		if c == proto {
			t.Fatal("ForCall must return a new codec: the prototype is shared by every call")
		}
		if _, err := c.Encode(tone(1000, 960), make([]byte, 1500)); err != nil {
			t.Fatal(err)
		}
		fec, _ := c.enc.InBandFEC()
		dtx, _ := c.enc.DTX()
		br, _ := c.enc.Bitrate()
		band, _ := c.enc.MaxBandwidth()
		if fec != tc.fec || dtx != tc.dtx || br != tc.bitrate || band != tc.band {
			t.Errorf("fmtp %q: encoder has FEC %v DTX %v bitrate %d band %d; want %v %v %d %d",
				tc.fmtp, fec, dtx, br, band, tc.fec, tc.dtx, tc.bitrate, tc.band)
		}
	}
}

// TestRoundTrip: a 1 kHz tone in every accepted frame size comes out as
// 1 kHz with its level.
func TestRoundTrip(t *testing.T) {
	for _, ms := range []int{10, 20, 40, 60} {
		frame := Rate * ms / 1000
		in := tone(1000, Rate/2)
		c := New(DefaultParams)
		var out []int16
		buf, pcm := make([]byte, 1500), make([]int16, Rate*120/1000)
		for i := 0; i+frame <= len(in); i += frame {
			n, err := c.Encode(in[i:i+frame], buf)
			if err != nil {
				t.Fatalf("%d ms: encode: %v", ms, err)
			}
			k, err := c.Decode(buf[:n], pcm)
			if err != nil {
				t.Fatalf("%d ms: decode: %v", ms, err)
			}
			if k != frame {
				t.Fatalf("%d ms: decoded %d samples, want %d", ms, k, frame)
			}
			out = append(out, pcm[:k]...)
		}
		tail := out[len(out)/2:]
		if f := media.DominantFrequency(tail, Rate, []float64{400, 1000, 2000}); f != 1000 {
			t.Errorf("%d ms: heard %.0f Hz, want 1000", ms, f)
		}
		if lvl := media.ToneLevel(tail, Rate, 1000); lvl < 0.5*media.ToneLevel(in, Rate, 1000) {
			t.Errorf("%d ms: 1 kHz level %.0f, input's %.0f", ms, lvl, media.ToneLevel(in, Rate, 1000))
		}
	}
	if _, err := New(DefaultParams).Encode(make([]int16, 1000), make([]byte, 1500)); err == nil || !strings.Contains(err.Error(), "1000 samples") {
		t.Errorf("a 1000-sample frame: err = %v, want one naming the size", err)
	}
}

// TestConcealment: a lost frame is filled by PLC, or better by the next
// packet's in-band FEC when the far end asked for it.
func TestConcealment(t *testing.T) {
	in := tone(440, Rate)
	pkts := encodeAll(t, in, 960, "useinbandfec=1")
	const lost = 30
	want := in[lost*960 : (lost+1)*960]
	run := func(fill func(c *Codec, pcm []int16) (int, error)) []int16 {
		c, pcm := New(DefaultParams), make([]int16, 5760)
		for i := range lost {
			if _, err := c.Decode(pkts[i], pcm); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]int16, 960)
		n, err := fill(c, got)
		if err != nil || n != 960 {
			t.Fatalf("concealing: %d samples, %v", n, err)
		}
		return got
	}
	plc := run(func(c *Codec, pcm []int16) (int, error) { return c.Conceal(pcm) })
	fec := run(func(c *Codec, pcm []int16) (int, error) { return c.DecodeFEC(pkts[lost+1], pcm) })
	empty := run(func(c *Codec, pcm []int16) (int, error) { return c.Decode(nil, pcm) })
	for name, got := range map[string][]int16{"PLC": plc, "FEC": fec, "empty payload": empty} {
		if f := media.DominantFrequency(got, Rate, []float64{220, 440, 880}); f != 440 {
			t.Errorf("%s: the concealed frame is at %.0f Hz, want the tone's 440", name, f)
		}
		if lvl := media.ToneLevel(got, Rate, 440); lvl < 0.2*media.ToneLevel(want, Rate, 440) {
			t.Errorf("%s: the concealed frame's level %.0f is far below the lost frame's %.0f", name, lvl, media.ToneLevel(want, Rate, 440))
		}
	}
	_, corrFEC, _ := compare(want, fec, 400)
	_, corrPLC, _ := compare(want, plc, 400)
	t.Logf("lost frame vs FEC: r=%.3f; vs PLC: r=%.3f", corrFEC, corrPLC)
}

func TestZeroAllocs(t *testing.T) {
	in := tone(1000, 960)
	c, _ := New(DefaultParams).ForCall("useinbandfec=1")
	oc := c.(*Codec)
	buf, pcm := make([]byte, 1500), make([]int16, 5760)
	n, _ := oc.Encode(in, buf)
	if _, err := oc.Decode(buf[:n], pcm); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"Encode":    func() { n, _ = oc.Encode(in, buf) },
		"Decode":    func() { _, _ = oc.Decode(buf[:n], pcm) },
		"Conceal":   func() { _, _ = oc.Conceal(pcm[:960]) },
		"DecodeFEC": func() { _, _ = oc.DecodeFEC(buf[:n], pcm[:960]) },
	} {
		if a := testing.AllocsPerRun(50, f); a != 0 {
			t.Errorf("%s allocates %.1f times per frame, want 0", name, a)
		}
	}
}
