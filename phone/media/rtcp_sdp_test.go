package media

import (
	"strings"
	"testing"
)

func TestSDPRTCPMux(t *testing.T) {
	local := []Codec{NewPCMU()}
	offer, err := Offer("127.0.0.1", 4000, local, 101, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(offer), "a=rtcp-mux\r\n") {
		t.Fatalf("our offer does not offer rtcp-mux:\n%s", offer)
	}
	base := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	cases := []struct {
		name  string
		extra string
		mux   bool
		port  int
	}{
		{"plain", "", false, 0},
		{"mux", "a=rtcp-mux\r\n", true, 0},
		{"rtcp port", "a=rtcp:5003 IN IP4 10.0.0.1\r\n", false, 5003},
		{"bad rtcp port", "a=rtcp:99999\r\n", false, 0},
	}
	for _, c := range cases {
		d, err := ParseDescription([]byte(base + c.extra))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, neg, err := Answer(d, local, "127.0.0.1", 4000, 101, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if neg.RTCPMux != c.mux || neg.RTCPPort != c.port {
			t.Errorf("%s: negotiated mux %v port %d, want %v %d", c.name, neg.RTCPMux, neg.RTCPPort, c.mux, c.port)
		}
		if got := strings.Contains(string(body), "a=rtcp-mux"); got != c.mux {
			t.Errorf("%s: our answer says rtcp-mux %v, want %v (only when offered)", c.name, got, c.mux)
		}
		if neg, err := Negotiate(d, local); err != nil || neg.RTCPMux != c.mux {
			t.Errorf("%s: as an answer to our offer: mux %v, err %v; want %v", c.name, neg.RTCPMux, err, c.mux)
		}
	}
}
