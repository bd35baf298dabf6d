package sipua

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestRefreshBeforeGrantedExpiry(t *testing.T) {
	for _, granted := range []int{1, 4, 30, 60, 61, 300, 3600} {
		r := refreshAfter(granted)
		if r <= 0 || r >= time.Duration(granted)*time.Second {
			t.Errorf("granted %d s: refresh after %s is not before expiry", granted, r)
		}
	}
}

func TestGrantedExpiryPrefersOurContact(t *testing.T) {
	ours := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "127.0.0.1", Port: 5070}}
	res := sip.NewResponse(200, "OK")
	other := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "10.0.0.9", Port: 5060}, Params: sip.NewParams()}
	other.Params.Add("expires", "999")
	mine := ours.Clone()
	mine.Params = sip.NewParams()
	mine.Params.Add("expires", "42")
	res.AppendHeader(other)
	res.AppendHeader(mine)
	res.AppendHeader(sip.NewHeader("Expires", "7"))
	if got := grantedExpiry(res, ours, 300); got != 42 {
		t.Fatalf("granted = %d, want 42 from our own Contact", got)
	}
	res2 := sip.NewResponse(200, "OK")
	res2.AppendHeader(sip.NewHeader("Expires", "7"))
	if got := grantedExpiry(res2, ours, 300); got != 7 {
		t.Fatalf("granted = %d, want 7 from Expires", got)
	}
	if got := grantedExpiry(sip.NewResponse(200, "OK"), ours, 300); got != 300 {
		t.Fatalf("granted = %d, want what we asked", got)
	}
}

func TestRequestURI(t *testing.T) {
	u := &UA{cfg: Config{Domain: "pbx.example.com"}}
	for in, want := range map[string]string{
		"1002":                    "sip:1002@pbx.example.com",
		" 1002 ":                  "sip:1002@pbx.example.com",
		"sip:alice@10.0.0.1:5080": "sip:alice@10.0.0.1:5080",
	} {
		got, err := u.RequestURI(in)
		if err != nil || got.String() != want {
			t.Errorf("RequestURI(%q) = %s, %v; want %s", in, got.String(), err, want)
		}
	}
	for _, bad := range []string{"", "a b", "<sip:x>", "x@y", "sip:<bad>", "sip:"} {
		if _, err := u.RequestURI(bad); !errors.Is(err, ErrBadURI) {
			t.Errorf("RequestURI(%q) error = %v, want ErrBadURI", bad, err)
		}
	}
}
