//go:build cgo

package opus

import (
	"net"
	"strings"
	"testing"
	"time"

	"deskphone/phone/media"

	"github.com/pion/rtp"
)

// baresip 1.0.0's offer (tools/labkit's far end): opus first, G.711,
// telephone-event at 8000 Hz only.
const baresipOffer = "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 10000 RTP/AVP 96 0 8 101\r\n" +
	"a=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1;usedtx=1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"

func TestAnswerWithOpus(t *testing.T) {
	offer, err := media.ParseDescription([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	proto := New(DefaultParams)
	pcmu, _ := media.CodecByName("PCMU")
	body, neg, err := media.Answer(offer, []media.Codec{proto, pcmu}, "192.0.2.20", 4000, 101, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := neg.Codec.(*Codec)
	if !ok || c == proto {
		t.Fatalf("the call must get its own Opus codec, got %T", neg.Codec)
	}
	if r := c.Remote(); !r.UseDTX || r.UseInbandFEC || r.MaxPlaybackRate != 48000 {
		t.Errorf("the far end's fmtp must configure the encoder: %+v", r)
	}
	if neg.PayloadType != 96 || neg.DTMFPayloadType != 0 || neg.Ptime != 20*time.Millisecond {
		t.Errorf("negotiated PT %d, telephone-event %d, ptime %v; want 96, none (baresip has no 48 kHz one), 20ms",
			neg.PayloadType, neg.DTMFPayloadType, neg.Ptime)
	}
	for _, want := range []string{"a=rtpmap:96 opus/48000/2", "a=fmtp:96 " + DefaultParams.String(), "a=ptime:20"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("answer lacks %q:\n%s", want, body)
		}
	}

	// Our offer, answered by a far end that wants FEC and less bitrate.
	ourOffer, err := media.Offer("192.0.2.20", 4000, []media.Codec{proto, pcmu}, 101, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:96 telephone-event/48000"} {
		if !strings.Contains(string(ourOffer), want) {
			t.Errorf("offer lacks %q:\n%s", want, ourOffer)
		}
	}
	answer := "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/AVP 111 96\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1;maxaveragebitrate=20000\r\n" +
		"a=rtpmap:96 telephone-event/48000\r\na=ptime:60\r\n"
	d, err := media.ParseDescription([]byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	neg, err = media.Negotiate(d, []media.Codec{proto, pcmu})
	if err != nil {
		t.Fatal(err)
	}
	c = neg.Codec.(*Codec)
	if r := c.Remote(); !r.UseInbandFEC || r.MaxAverageBitrate != 20000 || neg.DTMFPayloadType != 96 || neg.Ptime != 60*time.Millisecond {
		t.Errorf("from the answer: %+v, telephone-event %d, ptime %v", r, neg.DTMFPayloadType, neg.Ptime)
	}
}

// TestStreamDTMFAt48kHz: an Opus stream's RFC 4733 events and audio run
// on the 48 kHz clock — 960 units per 20 ms frame, a 100 ms digit lasting
// 4800 — and its audio decodes.
func TestStreamDTMFAt48kHz(t *testing.T) {
	far, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New(DefaultParams).ForCall("")
	st, err := media.NewStream(media.StreamConfig{
		Conn: conn, Remote: far.LocalAddr().(*net.UDPAddr), Codec: c,
		PayloadType: 111, DTMFPayloadType: 96, Ptime: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Start()
	defer st.Close()
	if err := st.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	var (
		pkt        rtp.Packet
		lastAudio  uint32
		audioSteps []uint32
		endDur     uint16
		ended      bool
	)
	dec := New(DefaultParams)
	pcm := make([]int16, 5760)
	buf := make([]byte, 1500)
	deadline := time.Now().Add(5 * time.Second)
	for (!ended || len(audioSteps) < 5) && time.Now().Before(deadline) {
		_ = far.SetReadDeadline(deadline)
		n, _, err := far.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		switch pkt.PayloadType {
		case 96:
			var ev media.DTMFEvent
			if err := ev.Unmarshal(pkt.Payload); err != nil {
				t.Fatal(err)
			}
			if ev.Event != 5 {
				t.Fatalf("event %d, want 5", ev.Event)
			}
			if ev.End {
				ended, endDur = true, ev.Duration
			}
		case 111:
			if k, err := dec.Decode(pkt.Payload, pcm); err != nil || k != 960 {
				t.Fatalf("our own Opus packet decodes to %d samples (%v), want 960", k, err)
			}
			if lastAudio != 0 {
				audioSteps = append(audioSteps, pkt.Timestamp-lastAudio)
			}
			lastAudio = pkt.Timestamp
		}
	}
	if !ended || endDur != 4800 {
		t.Errorf("the digit's end packet: seen %v, duration %d; want 4800 (100 ms at 48 kHz)", ended, endDur)
	}
	if len(audioSteps) < 5 {
		t.Fatalf("only %d audio packets before the deadline", len(audioSteps)+1)
	}
	for _, d := range audioSteps {
		if d%960 != 0 {
			t.Errorf("audio timestamps advance by %v, want multiples of 960 (20 ms at 48 kHz)", audioSteps)
			break
		}
	}
}
