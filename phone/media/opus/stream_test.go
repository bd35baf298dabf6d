//go:build cgo

package opus

import (
	"math"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"deskphone/phone/media"
)

// pacedTone is a microphone playing a tone, one frame per tick like a
// sound card.
type pacedTone struct {
	tick *time.Ticker
	hz   float64
	n    int
}

func (p *pacedTone) Read(frame []int16) error {
	<-p.tick.C
	for i := range frame {
		frame[i] = int16(8000 * math.Sin(2*math.Pi*p.hz*float64(p.n)/Rate))
		p.n++
	}
	return nil
}

// pacedRecorder is a speaker that keeps what it plays.
type pacedRecorder struct {
	tick *time.Ticker
	mu   sync.Mutex
	pcm  []int16
}

func (r *pacedRecorder) Write(frame []int16) error {
	<-r.tick.C
	r.mu.Lock()
	r.pcm = append(r.pcm, frame...)
	r.mu.Unlock()
	return nil
}

func (r *pacedRecorder) samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pcm)
}

// countingConcealer is an Opus codec that records each concealed frame's
// RMS, and whether it follows a decoded frame.
type countingConcealer struct {
	*Codec
	mu       sync.Mutex
	afterGap bool      // the previous frame was concealed too
	first    []float64 // RMS of each first concealed frame after decoded audio
	n, fec   int
}

func (c *countingConcealer) Decode(payload []byte, pcm []int16) (int, error) {
	c.mu.Lock()
	c.afterGap = false
	c.mu.Unlock()
	return c.Codec.Decode(payload, pcm)
}

func (c *countingConcealer) Conceal(pcm []int16) (int, error) {
	n, err := c.Codec.Conceal(pcm)
	c.note(pcm[:n], false)
	return n, err
}

func (c *countingConcealer) DecodeFEC(next []byte, pcm []int16) (int, error) {
	n, err := c.Codec.DecodeFEC(next, pcm)
	c.note(pcm[:n], true)
	return n, err
}

func (c *countingConcealer) note(pcm []int16, fec bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if fec {
		c.fec++
	}
	if !c.afterGap {
		var sum float64
		for _, v := range pcm {
			sum += float64(v) * float64(v)
		}
		c.first = append(c.first, math.Sqrt(sum/float64(max(len(pcm), 1))))
	}
	c.afterGap = true
}

// TestStreamConcealsLossWithOpus: an Opus call through a relay that drops
// every 10th packet: the receiving stream fills each lost frame from the
// Opus decoder (PLC, or FEC from the next packet), which continues the
// tone rather than playing silence.
func TestStreamConcealsLossWithOpus(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	connA, connB, relay := listen(), listen(), listen()
	defer relay.Close()
	addr := func(c *net.UDPConn) *net.UDPAddr { return c.LocalAddr().(*net.UDPAddr) }

	// The relay forwards A's packets to B, dropping every 10th.
	go func() {
		buf := make([]byte, 1500)
		for n := 0; ; {
			k, from, err := relay.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if from.Port != addr(connA).Port { // B's own packets: not forwarded
				continue
			}
			if n++; n%10 == 0 {
				continue
			}
			_, _ = relay.WriteToUDP(buf[:k], addr(connB))
		}
	}()

	tickA, tickB := time.NewTicker(20*time.Millisecond), time.NewTicker(20*time.Millisecond)
	defer tickA.Stop()
	defer tickB.Stop()
	rec := &pacedRecorder{tick: tickB}
	encA, _ := New(DefaultParams).ForCall("useinbandfec=1") // B asked for FEC
	dec, _ := New(DefaultParams).ForCall("")
	decB := &countingConcealer{Codec: dec.(*Codec)}
	a, err := media.NewStream(media.StreamConfig{Conn: connA, Remote: addr(relay), Codec: encA, PayloadType: 111,
		Source: &pacedTone{tick: tickA, hz: 440}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := media.NewStream(media.StreamConfig{Conn: connB, Remote: addr(relay), Codec: decB, PayloadType: 111, Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	b.Start()
	defer a.Close()
	defer b.Close()

	const want = 3 * Rate // 3 s played
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.samples()) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	pcm := rec.samples()
	if len(pcm) < want {
		t.Fatalf("only %d samples played within 10 s", len(pcm))
	}
	st := b.JitterStats()
	decB.mu.Lock()
	n, fec, first := decB.n, decB.fec, slices.Clone(decB.first)
	decB.mu.Unlock()
	t.Logf("receiver: lost %d, concealed %d (by the codec %d, %d of them from FEC); first concealed frames' RMS %.0f (the tone's ~5700)",
		st.Lost, st.Concealed, n, fec, first)
	if st.Lost == 0 || n == 0 || uint64(n) != st.Concealed {
		t.Fatalf("lost %d, concealed %d, by the Opus decoder %d: every concealed frame must come from the codec", st.Lost, st.Concealed, n)
	}
	for i, rms := range first {
		if rms < 1000 {
			t.Errorf("concealed frame %d after audio has RMS %.0f: silence, not the tone continued", i, rms)
		}
	}
	start := 0
	for start+960 <= len(pcm) && media.ToneLevel(pcm[start:start+960], Rate, 440) < 0.05 {
		start += 960
	}
	if f := media.DominantFrequency(pcm[start:], Rate, []float64{220, 440, 880}); f != 440 {
		t.Errorf("the receiver played %.0f Hz, want the 440 Hz tone", f)
	}
}
