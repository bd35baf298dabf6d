package media

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The shape of baresip's offer (opus first, G.711, telephone-event).
const baresipOffer = "v=0\r\n" +
	"o=- 1712345678 1712345679 IN IP4 192.0.2.10\r\n" +
	"s=-\r\n" +
	"c=IN IP4 192.0.2.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 10000 RTP/AVP 96 0 8 101\r\n" +
	"b=AS:94\r\n" +
	"a=rtpmap:96 opus/48000/2\r\n" +
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=ptime:20\r\n" +
	"a=sendrecv\r\n" +
	"a=label:1\r\n"

func TestParseBaresipOffer(t *testing.T) {
	d, err := ParseDescription([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	if d.IP != "192.0.2.10" || d.Port != 10000 || d.Proto != "RTP/AVP" || d.DTMFPayloadType != 101 || d.Direction != SendRecv || d.Ptime != 20 {
		t.Errorf("description = %+v", d)
	}
	want := []Format{
		{96, "opus", 48000, 2, "stereo=1;sprop-stereo=1"},
		{0, "PCMU", 8000, 1, ""},
		{8, "PCMA", 8000, 1, ""},
		{101, "telephone-event", 8000, 1, "0-15"},
	}
	if len(d.Formats) != len(want) {
		t.Fatalf("formats %+v, want %+v", d.Formats, want)
	}
	for i := range want {
		if d.Formats[i] != want[i] {
			t.Errorf("format %d = %+v, want %+v", i, d.Formats[i], want[i])
		}
	}
}

func TestAnswerBaresipOffer(t *testing.T) {
	offer, err := ParseDescription([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		local []Codec
		name  string
		pt    uint8
	}{
		{[]Codec{NewPCMU(), NewPCMA()}, "PCMU", 0},
		{[]Codec{NewPCMA(), NewPCMU()}, "PCMA", 8},
	} {
		body, neg, err := Answer(offer, tc.local, "192.0.2.20", 4000, 101, 42)
		if err != nil {
			t.Fatal(err)
		}
		if neg.Codec.Name() != tc.name || neg.PayloadType != tc.pt || neg.DTMFPayloadType != 101 ||
			neg.Remote.String() != "192.0.2.10:10000" || neg.Direction != SendRecv {
			t.Errorf("local %s first: negotiated %+v", tc.name, neg)
		}
		// The answer itself must say the same to the far end.
		ans, err := ParseDescription(body)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, body)
		}
		if ans.IP != "192.0.2.20" || ans.Port != 4000 || len(ans.Formats) != 2 ||
			ans.Formats[0].PayloadType != tc.pt || !strings.EqualFold(ans.Formats[0].Name, tc.name) ||
			ans.DTMFPayloadType != 101 || ans.Formats[1].Fmtp != "0-15" || ans.Direction != SendRecv {
			t.Errorf("answer %+v\n%s", ans, body)
		}
		for _, line := range []string{"o=deskphone 42 42 IN IP4 192.0.2.20", "c=IN IP4 192.0.2.20", "a=ptime:20"} {
			if !strings.Contains(string(body), line+"\r\n") {
				t.Errorf("answer lacks %q:\n%s", line, body)
			}
		}
	}
}

func TestAnswerOpusOnlyOffer(t *testing.T) {
	body := strings.Replace(baresipOffer, "RTP/AVP 96 0 8 101", "RTP/AVP 96 101", 1)
	offer, err := ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Answer(offer, []Codec{NewPCMU(), NewPCMA()}, "192.0.2.20", 4000, 101, 1)
	if !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("opus-only offer: %v, want ErrNoCommonCodec", err)
	}
	if !strings.Contains(err.Error(), "opus(96)") || !strings.Contains(err.Error(), "PCMU, PCMA") {
		t.Errorf("error %q should name both sides' codecs", err)
	}
}

func TestAnswerMirrorsDirectionAndRejectsOtherMedia(t *testing.T) {
	body := strings.Replace(baresipOffer, "a=sendrecv", "a=sendonly", 1) +
		"m=video 10002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n"
	offer, err := ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ans, neg, err := Answer(offer, []Codec{NewPCMU()}, "192.0.2.20", 4000, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if neg.Direction != RecvOnly || neg.DTMFPayloadType != 0 {
		t.Errorf("negotiated %+v; want recvonly (held) and no DTMF (declined)", neg)
	}
	s := string(ans)
	if !strings.Contains(s, "a=recvonly\r\n") || !strings.Contains(s, "m=video 0 RTP/AVP 97\r\n") || strings.Contains(s, "telephone-event") {
		t.Errorf("answer:\n%s", s)
	}
	if i, j := strings.Index(s, "m=audio"), strings.Index(s, "m=video"); i < 0 || j < i {
		t.Errorf("m-lines out of the offer's order:\n%s", s)
	}
}

func TestStaticPayloadTypesWithoutRtpmap(t *testing.T) {
	body := "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 5004 RTP/AVP 8 0\r\nc=IN IP4 10.0.0.2\r\n"
	d, err := ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d.IP != "10.0.0.2" || d.DTMFPayloadType != 0 || d.Direction != SendRecv {
		t.Errorf("description %+v (media-level c= must win)", d)
	}
	neg, err := Negotiate(d, []Codec{NewPCMU(), NewPCMA()})
	if err != nil {
		t.Fatal(err)
	}
	// Negotiate follows the answer's order: the far end put PCMA first.
	if neg.Codec.Name() != "PCMA" || neg.PayloadType != 8 || neg.Remote.String() != "10.0.0.2:5004" {
		t.Errorf("negotiated %+v", neg)
	}
}

func TestNegotiateDynamicPayloadTypeByName(t *testing.T) {
	body := "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 5004 RTP/AVP 112 96\r\na=rtpmap:112 pcmu/8000\r\na=rtpmap:96 telephone-event/8000\r\na=recvonly\r\n"
	d, err := ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	neg, err := Negotiate(d, []Codec{NewPCMA(), NewPCMU()})
	if err != nil {
		t.Fatal(err)
	}
	if neg.Codec.Name() != "PCMU" || neg.PayloadType != 112 || neg.DTMFPayloadType != 96 || neg.Direction != SendOnly {
		t.Errorf("negotiated %+v", neg)
	}
}

func TestOffer(t *testing.T) {
	body, err := Offer("192.0.2.20", 4000, []Codec{NewPCMA(), NewPCMU()}, 101, 77)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, line := range []string{
		"v=0", "o=deskphone 77 77 IN IP4 192.0.2.20", "c=IN IP4 192.0.2.20", "t=0 0",
		"m=audio 4000 RTP/AVP 8 0 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv",
	} {
		if !strings.Contains(s, line+"\r\n") {
			t.Errorf("offer lacks %q:\n%s", line, s)
		}
	}
	// Round trip: the far end answering our offer with PCMU.
	d, err := ParseDescription(body)
	if err != nil {
		t.Fatal(err)
	}
	_, neg, err := Answer(d, []Codec{NewPCMU()}, "192.0.2.30", 5000, 101, 1)
	if err != nil || neg.PayloadType != 0 || neg.Remote.Port != 4000 {
		t.Errorf("answering our own offer: %+v, %v", neg, err)
	}

	if _, err := Offer("192.0.2.20", 4000, []Codec{NewPCMU()}, 0, 1); err != nil {
		t.Errorf("offer without DTMF: %v", err)
	}
	if _, err := Offer("192.0.2.20", 4000, []Codec{NewPCMU()}, 8, 1); err != nil {
		t.Errorf("DTMF PT 8 does not clash with PCMU alone: %v", err)
	}
	if _, err := Offer("192.0.2.20", 4000, []Codec{NewPCMU(), NewPCMA()}, 8, 1); err == nil {
		t.Error("telephone-event on PCMA's payload type was accepted")
	}
	if _, err := Offer("192.0.2.20", 4000, nil, 101, 1); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("offer with no codecs: %v", err)
	}
	v6, err := Offer("2001:db8::1", 4000, []Codec{NewPCMU()}, 101, 1)
	if err != nil || !strings.Contains(string(v6), "c=IN IP6 2001:db8::1\r\n") {
		t.Errorf("IPv6 offer: %v\n%s", err, v6)
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	head := "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"no audio", head + "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n", ErrNoAudio},
		{"no connection", head + "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", ErrNoConnection},
		{"port 0", head + "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", ErrStreamRejected},
	} {
		if _, err := ParseDescription([]byte(tc.body)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := ParseDescription([]byte("this is not SDP")); err == nil {
		t.Error("garbage parsed")
	}
	savp := head + "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/SAVP 0\r\n"
	d, err := ParseDescription([]byte(savp))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Answer(d, []Codec{NewPCMU()}, "10.0.0.2", 4000, 101, 1); err == nil || !strings.Contains(err.Error(), "RTP/SAVP") {
		t.Errorf("SRTP-only offer answered in clear: %v; want an error naming RTP/SAVP", err)
	}
	host := head + "c=IN IP4 media.example.com\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	d, err = ParseDescription([]byte(host))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Negotiate(d, []Codec{NewPCMU()}); err == nil {
		t.Error("a host name in c= was accepted as an address")
	}
}

func TestOldStyleHold(t *testing.T) {
	body := strings.Replace(baresipOffer, "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1)
	d, err := ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	_, neg, err := Answer(d, []Codec{NewPCMU()}, "192.0.2.20", 4000, 101, 1)
	if err != nil {
		t.Fatal(err)
	}
	if neg.Direction != RecvOnly {
		t.Errorf("c=0.0.0.0: direction %s, want recvonly (do not send)", neg.Direction)
	}
}

// fakeOpus stands for the opus package (which imports media, so media's
// tests cannot): a 48 kHz codec with per-call instances and its own packet
// times.
type fakeOpus struct {
	Codec         // Encode and Decode: not used by SDP
	remote string // the far end's fmtp this instance was made for
	call   bool
}

func newFakeOpus() *fakeOpus { return &fakeOpus{} }

func (*fakeOpus) Name() string       { return "opus" }
func (*fakeOpus) PayloadType() uint8 { return 111 }
func (*fakeOpus) ClockRate() int     { return 48000 }
func (*fakeOpus) SampleRate() int    { return 48000 }
func (*fakeOpus) Channels() int      { return 2 }
func (*fakeOpus) Fmtp() string       { return "useinbandfec=1" }
func (*fakeOpus) PacketTimes() []int { return []int{10, 20, 40, 60} }
func (f *fakeOpus) ForCall(remote string) (Codec, error) {
	return &fakeOpus{remote: remote, call: true}, nil
}

func TestOfferTelephoneEventPerClockRate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		codecs []Codec
		dtmfPT uint8
		want   []Format // PT, name, rate
	}{
		{"opus and G.711", []Codec{newFakeOpus(), NewPCMU(), NewPCMA()}, 101, []Format{
			{PayloadType: 111, Name: "opus", ClockRate: 48000}, {PayloadType: 0, Name: "PCMU", ClockRate: 8000},
			{PayloadType: 8, Name: "PCMA", ClockRate: 8000},
			{PayloadType: 101, Name: "telephone-event", ClockRate: 8000}, {PayloadType: 96, Name: "telephone-event", ClockRate: 48000}}},
		{"telephone-event on opus's type", []Codec{NewPCMU(), newFakeOpus()}, 111, []Format{
			{PayloadType: 0, Name: "PCMU", ClockRate: 8000}, {PayloadType: 96, Name: "opus", ClockRate: 48000},
			{PayloadType: 111, Name: "telephone-event", ClockRate: 8000}, {PayloadType: 97, Name: "telephone-event", ClockRate: 48000}}},
		{"opus alone", []Codec{newFakeOpus()}, 101, []Format{
			{PayloadType: 111, Name: "opus", ClockRate: 48000}, {PayloadType: 101, Name: "telephone-event", ClockRate: 48000}}},
		{"G.711 alone", []Codec{NewPCMA()}, 101, []Format{
			{PayloadType: 8, Name: "PCMA", ClockRate: 8000}, {PayloadType: 101, Name: "telephone-event", ClockRate: 8000}}},
	} {
		body, err := Offer("192.0.2.20", 4000, tc.codecs, tc.dtmfPT, 1)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d, err := ParseDescription(body)
		if err != nil {
			t.Fatalf("%s: our offer does not parse: %v\n%s", tc.name, err, body)
		}
		if len(d.Formats) != len(tc.want) {
			t.Fatalf("%s: formats %+v, want %+v\n%s", tc.name, d.Formats, tc.want, body)
		}
		for i, w := range tc.want {
			f := d.Formats[i]
			if f.PayloadType != w.PayloadType || f.Name != w.Name || f.ClockRate != w.ClockRate {
				t.Errorf("%s: format %d is %d %s/%d, want %d %s/%d", tc.name, i, f.PayloadType, f.Name, f.ClockRate, w.PayloadType, w.Name, w.ClockRate)
			}
		}
		if strings.Contains(string(body), "opus") && !strings.Contains(string(body), "opus/48000/2") {
			t.Errorf("%s: opus must be offered as opus/48000/2:\n%s", tc.name, body)
		}
	}
}

// An offer of opus with telephone-event at both rates (as WebRTC offers).
const opusOffer = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 10000 RTP/AVP 109 0 110 101\r\n" +
	"a=rtpmap:109 opus/48000/2\r\na=fmtp:109 maxplaybackrate=16000;useinbandfec=1\r\n" +
	"a=rtpmap:110 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n" +
	"a=ptime:40\r\na=maxptime:60\r\n"

func TestAnswerPicksTelephoneEventAtTheCodecsRate(t *testing.T) {
	offer, err := ParseDescription([]byte(opusOffer))
	if err != nil {
		t.Fatal(err)
	}
	proto := newFakeOpus()
	body, neg, err := Answer(offer, []Codec{proto, NewPCMU()}, "192.0.2.20", 4000, 101, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := neg.Codec.(*fakeOpus)
	if !ok || !got.call || got == proto || got.remote != "maxplaybackrate=16000;useinbandfec=1" {
		t.Errorf("the call's codec must be the prototype's ForCall with the offer's fmtp; got %#v", neg.Codec)
	}
	if neg.PayloadType != 109 || neg.DTMFPayloadType != 110 || neg.Ptime != 40*time.Millisecond {
		t.Errorf("negotiated PT %d, telephone-event %d, ptime %v; want 109, 110 (48 kHz), 40ms", neg.PayloadType, neg.DTMFPayloadType, neg.Ptime)
	}
	ans, err := ParseDescription(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Formats) != 2 || ans.Formats[1].PayloadType != 110 || ans.Formats[1].ClockRate != 48000 || ans.Ptime != 40 ||
		ans.Formats[0].Fmtp != "useinbandfec=1" {
		t.Errorf("answer %+v\n%s", ans, body)
	}

	// G.711 chosen from the same offer: the 8 kHz telephone-event.
	_, neg, err = Answer(offer, []Codec{NewPCMU()}, "192.0.2.20", 4000, 101, 1)
	if err != nil || neg.DTMFPayloadType != 101 {
		t.Errorf("PCMU: telephone-event %d (%v), want 101", neg.DTMFPayloadType, err)
	}

	// baresip offers telephone-event/8000 only: with opus there is none at
	// its clock, so none is negotiated (RFC 4733 events use the audio's).
	bo, err := ParseDescription([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	body, neg, err = Answer(bo, []Codec{newFakeOpus()}, "192.0.2.20", 4000, 101, 1)
	if err != nil || neg.DTMFPayloadType != 0 || strings.Contains(string(body), "telephone-event") {
		t.Errorf("opus against telephone-event/8000 only: PT %d, err %v\n%s", neg.DTMFPayloadType, err, body)
	}
}

func TestNegotiatedPtime(t *testing.T) {
	for _, tc := range []struct {
		attrs string
		codec Codec
		want  time.Duration
	}{
		{"", NewPCMU(), 20 * time.Millisecond},
		{"a=ptime:30\r\n", NewPCMU(), 30 * time.Millisecond},
		{"a=ptime:30\r\n", newFakeOpus(), 20 * time.Millisecond}, // opus frames 10/20/40/60
		{"a=ptime:60\r\na=maxptime:40\r\n", newFakeOpus(), 40 * time.Millisecond},
		{"a=maxptime:10\r\n", NewPCMA(), 10 * time.Millisecond},
		{"a=ptime:5\r\n", newFakeOpus(), 10 * time.Millisecond},
		{"a=ptime:500\r\n", NewPCMU(), 120 * time.Millisecond},
		{"a=ptime:abc\r\n", NewPCMU(), 20 * time.Millisecond},
	} {
		body := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
			"m=audio 10000 RTP/AVP 0 8 111\r\na=rtpmap:111 opus/48000/2\r\n" + tc.attrs
		d, err := ParseDescription([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		neg, err := Negotiate(d, []Codec{tc.codec})
		if err != nil {
			t.Fatal(err)
		}
		if neg.Ptime != tc.want {
			t.Errorf("%q with %s: ptime %v, want %v", tc.attrs, tc.codec.Name(), neg.Ptime, tc.want)
		}
	}
}
