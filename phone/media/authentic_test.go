package media

import (
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// injector sends RTP from a third address: a 3000 Hz tone in the call's
// payload type and RFC 4733 events for digit 4.
type injector struct {
	t     *testing.T
	conn  *net.UDPConn
	codec Codec
	seq   uint16
	ts    uint32
	n     int
}

func (j *injector) send(to *net.UDPAddr, pt uint8, payload []byte, marker bool) {
	j.t.Helper()
	j.seq++
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: j.seq, Timestamp: j.ts, SSRC: 0xbad, Marker: marker}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		j.t.Fatal(err)
	}
	if _, err := j.conn.WriteToUDP(b, to); err != nil {
		j.t.Fatal(err)
	}
	j.n++
}

func (j *injector) tone(to *net.UDPAddr) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(0.9 * 32767 * math.Sin(2*math.Pi*3000*float64(int(j.ts)+i)/8000))
	}
	out := make([]byte, 160)
	n, err := j.codec.Encode(pcm, out)
	if err != nil {
		j.t.Fatal(err)
	}
	j.send(to, j.codec.PayloadType(), out[:n], false)
	j.ts += 160
}

func (j *injector) digit4(to *net.UDPAddr) {
	buf := make([]byte, DTMFPayloadSize)
	for i, end := range []bool{false, false, true, true, true} {
		if _, err := (DTMFEvent{Event: 4, End: end, Volume: 10, Duration: uint16(160 * (i + 1))}).MarshalTo(buf); err != nil {
			j.t.Fatal(err)
		}
		j.send(to, 101, buf, i == 0)
	}
	j.ts += 800
}

// Audio and telephone-events from a third address are neither played nor
// reported; they are counted and the call's own audio goes on.
func TestStreamDropsThirdPartyMedia(t *testing.T) {
	_, b := call(t, NewPCMA, 1000, 600)
	waitSamples(t, b.sink, 1600)
	j := &injector{t: t, conn: udpConn(t), codec: NewPCMA()}
	defer j.conn.Close()
	to := b.conn.LocalAddr().(*net.UDPAddr)
	from := b.sink.len()
	for range 100 { // 2 s of injected audio and 20 digits, as fast as they go
		j.tone(to)
		if j.n%10 == 0 {
			j.digit4(to)
		}
	}
	waitFor(t, "the injected packets to be counted", func() bool { return b.stream.Stats().ForeignSource >= uint64(j.n) })
	waitSamples(t, b.sink, 8000)
	assertTone(t, "during the injection", b.sink.samples(from), 1000)
	if got := b.received(); got != "" {
		t.Fatalf("digits %q reported from a third address", got)
	}
	if st := b.stream.Stats(); st.DTMFReceived != 0 || st.ForeignSource != uint64(j.n) {
		t.Fatalf("stats %+v: want no DTMF and %d foreign datagrams", st, j.n)
	}
}

// With symmetric RTP the first source of audio is latched once; a later
// injector is not, and digits from it are not reported.
func TestStreamLatchesOnce(t *testing.T) {
	conn := udpConn(t)
	sink := newRecordSink(20 * time.Millisecond)
	defer sink.Close()
	got := make(chan rune, 16)
	nowhere := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} // SDP said one port; NAT moved it
	s, err := NewStream(StreamConfig{Conn: conn, Remote: nowhere, Codec: NewPCMA(), PayloadType: 8, DTMFPayloadType: 101,
		Sink: sink, Latch: true, OnDTMF: func(d rune) { got <- d }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	to := conn.LocalAddr().(*net.UDPAddr)
	far := &injector{t: t, conn: udpConn(t), codec: NewPCMA()}
	evil := &injector{t: t, conn: udpConn(t), codec: NewPCMA()}
	defer far.conn.Close()
	defer evil.conn.Close()

	far.tone(to) // latches
	waitFor(t, "the far end's first packet", func() bool { return s.Stats().PacketsReceived == 1 })
	evil.tone(to)
	evil.digit4(to)
	waitFor(t, "the injector's packets to be counted", func() bool { return s.Stats().ForeignSource == uint64(evil.n) })
	far.digit4(to)
	select {
	case d := <-got:
		if d != '4' {
			t.Fatalf("digit %q, want 4 from the latched far end", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the latched far end's digit was not reported")
	}
	if st := s.Stats(); st.DTMFReceived != 1 {
		t.Fatalf("DTMFReceived = %d, want 1 (the injector's digit must not count)", st.DTMFReceived)
	}
}
