package media

import (
	"strings"
	"testing"
)

// The phone's address changed: the origin and every c= line name the new
// one, the rest (port, codecs) stays, and a body already there is left.
func TestReaddress(t *testing.T) {
	body, err := Offer("10.77.0.2", 16400, []Codec{NewPCMU()}, 101, 7)
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err := Readdress(body, "10.77.0.3")
	if err != nil || !changed {
		t.Fatalf("Readdress: changed %v, %v", changed, err)
	}
	s := string(out)
	if strings.Contains(s, "10.77.0.2") || !strings.Contains(s, "c=IN IP4 10.77.0.3") || !strings.Contains(s, "IN IP4 10.77.0.3\r\n") {
		t.Fatalf("the new SDP still names the old address or lacks the new one:\n%s", s)
	}
	if !strings.Contains(s, "m=audio 16400 RTP/AVP 0 101") {
		t.Fatalf("the media line changed:\n%s", s)
	}
	desc, err := ParseDescription(out)
	if err != nil {
		t.Fatal(err)
	}
	if neg, err := Negotiate(desc, []Codec{NewPCMU()}); err != nil || neg.Remote.IP.String() != "10.77.0.3" || neg.Remote.Port != 16400 {
		t.Fatalf("negotiating the moved SDP: %+v, %v", neg.Remote, err)
	}
	again, changed, err := Readdress(out, "10.77.0.3")
	if err != nil || changed || string(again) != s {
		t.Fatalf("moving to the same address again: changed %v, %v", changed, err)
	}
	if _, _, err := Readdress([]byte("garbage"), "10.0.0.1"); err == nil {
		t.Fatal("an unreadable SDP was moved")
	}
}
