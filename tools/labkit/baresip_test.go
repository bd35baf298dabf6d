package labkit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startBaresip(t *testing.T, k *Kamailio, user, password string, toneHz int) *Baresip {
	t.Helper()
	b, err := StartBaresip(BaresipOptions{
		Dir: filepath.Join(t.TempDir(), "baresip-"+user), User: user, Password: password,
		Registrar: k.Addr(), AnswerMode: "auto", ToneHz: toneHz, Codecs: "PCMU,PCMA",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("baresip %s log:\n%s", user, b.Log())
		}
	})
	return b
}

func TestBaresipRegisters(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1002": "pw2"}})
	b := startBaresip(t, k, "1002", "pw2", 440)

	bs, err := k.Bindings("1002")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || !strings.Contains(bs[0].Contact, b.SIPAddr()) || bs[0].Expires <= 0 {
		t.Fatalf("bindings of 1002: %+v; want one contact at %s", bs, b.SIPAddr())
	}

	if _, err := StartBaresip(BaresipOptions{Dir: t.TempDir(), User: "1002", Password: "wrong", Registrar: k.Addr()}); err == nil {
		t.Fatal("baresip with a wrong password reported itself registered")
	}
}

func TestBaresipCallThroughKamailio(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1002": "pw2", "1003": "pw3"}, ProxyAuth: true})
	caller := startBaresip(t, k, "1002", "pw2", 440)
	callee := startBaresip(t, k, "1003", "pw3", 880)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := caller.Dial(caller.URI("1003")); err != nil {
		t.Fatal(err)
	}
	// Auto-answer goes straight to CALL_ESTABLISHED: baresip 1.0.0 reports
	// CALL_INCOMING only when the call waits to be answered.
	for _, b := range []*Baresip{caller, callee} {
		if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
			t.Fatal(err)
		}
	}
	in, err := callee.WaitEvent(ctx, "CALL_REMOTE_SDP")
	if err != nil || in.Direction != "incoming" || !strings.Contains(in.PeerURI, "1002@") {
		t.Errorf("callee's call: %+v, %v; want an incoming call from 1002", in, err)
	}

	if err := caller.SendDTMF("12#"); err != nil {
		t.Fatal(err)
	}
	// Let the digits arrive and a couple of seconds of tone be recorded.
	for callee.ReceivedDTMF() != "12#" && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if got := callee.ReceivedDTMF(); got != "12#" {
		t.Fatalf("callee received DTMF %q, want %q", got, "12#")
	}
	time.Sleep(2 * time.Second)

	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Baresip{caller, callee} {
		if _, err := b.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
			t.Fatal(err)
		}
	}

	if strings.Contains(callee.Log(), "[0:00:0") {
		t.Error("baresip printed its call status line: statmode_default off did not take")
	}
	recs, err := callee.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("callee recordings: %v, %v; want one", recs, err)
	}
	samples, rate, err := readWAV(recs[len(recs)-1])
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < rate {
		t.Fatalf("%s holds %d samples at %d Hz, want at least 1 s", recs[len(recs)-1], len(samples), rate)
	}
	peak, ratio := dominantFreq(samples, rate, 100, 3400, 10)
	if peak < 430 || peak > 450 || ratio < 10 {
		t.Fatalf("callee heard a peak at %v Hz (×%.1f the mean), want the caller's 440 Hz", peak, ratio)
	}
	t.Logf("callee heard %v Hz (×%.0f the mean) in %s (%d Hz, %.1f s)", peak, ratio, filepath.Base(recs[0]), rate, float64(len(samples))/float64(rate))
}

func TestBaresipManualAnswer(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1002": "pw2", "1003": "pw3"}})
	caller := startBaresip(t, k, "1002", "pw2", 440)
	callee, err := StartBaresip(BaresipOptions{
		Dir: filepath.Join(t.TempDir(), "baresip-1003"), User: "1003", Password: "pw3",
		Registrar: k.Addr(), AnswerMode: "manual",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = callee.Stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if err := caller.Dial(caller.URI("1003")); err != nil {
		t.Fatal(err)
	}
	in, err := callee.WaitEvent(ctx, "CALL_INCOMING")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.PeerURI, "1002@") {
		t.Errorf("CALL_INCOMING from %q, want 1002", in.PeerURI)
	}
	if _, err := caller.WaitEvent(ctx, "CALL_RINGING"); err != nil {
		t.Fatal(err)
	}
	if err := callee.Answer(); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	// The callee hangs up this time: the caller sees the call end.
	if err := callee.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}
