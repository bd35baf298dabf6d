package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/tools/labkit"
)

// A scanner's flood: two SIPp processes on 127.0.0.9 (not the registrar,
// not a trusted peer) send out-of-dialog INVITEs and OPTIONS straight to
// the phone, 200 a second each, for DESKPHONE_FLOOD_SECONDS (default 8;
// `make flood` runs 30). The phone never rings, stays registered, and a
// call through the trusted proxy made in the middle of the flood works.
// The log stays small, and the figures — the process's CPU and the
// goroutines during the flood — are logged.
func TestSIPpFloodFromUntrustedHost(t *testing.T) {
	seconds := 8
	if n, err := strconv.Atoi(os.Getenv("DESKPHONE_FLOOD_SECONDS")); err == nil && n > 0 {
		seconds = n
	}
	const rate = 200 // per method, per second
	kam := kamailio(t)
	far := farEnd(t, kam, "1002", "auto", 440)
	u := startPhone(t, phoneConfig(t, kam.Addr(), labUsers["1001"]))
	u.registered()
	base := runtime.NumGoroutine()
	logBefore := u.out.size()
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)

	start := time.Now()
	var floods []*labkit.SIPp
	for _, method := range []string{"INVITE", "OPTIONS"} {
		floods = append(floods, startSIPp(t, labkit.SIPpOptions{
			Scenario: labkit.FloodScenario(method), Remote: u.d.phone.SIPAddr(), Service: "1001",
			LocalIP: "127.0.0.9", Calls: rate * seconds,
			Extra: []string{"-r", strconv.Itoa(rate)},
		}))
	}
	peak := base
	var mu sync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the goroutine count while the flood lasts
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
			mu.Lock()
			peak = max(peak, runtime.NumGoroutine())
			mu.Unlock()
		}
	}()

	// In the middle of the flood: still registered, and a call works.
	time.Sleep(time.Duration(seconds) * time.Second / 3) // let the flood build up first
	u.must("GET", "/v1/login", nil)
	id := u.must("POST", "/v1/call", map[string]string{"to": "1002"})["sessionId"].(string)
	u.waitEvent(event.Accepted, 10*time.Second, sessionIs(id))
	if _, err := far.WaitEvent(ctxT(t, 5*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatalf("baresip never reported the call established: %v", err)
	}
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.waitEvent(event.Ended, 10*time.Second, sessionIs(id))
	callDone := time.Since(start)

	for _, f := range floods {
		if err := f.Wait(ctxT(t, time.Duration(seconds+30)*time.Second)); err != nil {
			t.Fatalf("the flood did not run to its end: %v", err)
		}
	}
	flooded := time.Since(start)
	close(stopSampling)
	<-sampled
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	logged := u.out.size() - logBefore
	mu.Lock()
	t.Logf("flood: %d INVITE + %d OPTIONS from 127.0.0.9 in %v; a call through Kamailio done %v in; "+
		"test process CPU %v (%.0f %% of a core); goroutines %d before, peak %d; the phone wrote %d bytes (log, events, API answers)",
		rate*seconds, rate*seconds, flooded.Round(time.Millisecond), callDone.Round(time.Millisecond),
		cpu.Round(time.Millisecond), 100*cpu.Seconds()/flooded.Seconds(), base, peak, logged)
	mu.Unlock()

	for _, e := range u.eventsSince(0) {
		if e.Name == event.NewSession && field(e.Data, "sessionId") != id {
			t.Fatalf("the flood rang the phone: %s %v", e.Name, e.Data)
		}
	}
	u.must("GET", "/v1/login", nil)
	// A flood of thousands of messages may be summarised in the log, not
	// written message by message: 64 KB is a few hundred lines.
	if logged > 64<<10 {
		t.Errorf("the phone wrote %d bytes during the flood: its log is not rate-limited", logged)
	}
	var g int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if g = runtime.NumGoroutine(); g <= base+5 || time.Now().After(deadline) {
			break
		}
	}
	if g > base+5 {
		t.Errorf("goroutines went from %d to %d after the flood and stayed", base, g)
	}
}
