package main

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"deskphone/hal/wav"
	"deskphone/phone"
	"deskphone/tools/impair"
	"deskphone/tools/labkit"
)

// The impairment e2e test: the phone calls baresip through Kamailio with
// RTP both ways through tools/impair's mirror relay on 127.0.0.77 (the
// phone's SetMediaRelay puts the relay's address in its SDP, with its own
// port, which the relay holds, and sends to the relay's stand-in for
// baresip's port).
// The call runs calm, then with 5 % loss, 30 ms jitter, 2 % reordering and
// 1 % duplication (seeded) for 12 s, then 4 s with the jitter at 120 ms,
// then calm again. The phone's jitter buffer must grow its delay under
// the jitter and shrink it after, and both the phone's speaker and
// baresip's recording are searched for gaps (silent runs in the far
// end's continuous tone) in the calm, 30 ms and calm-again phases.

var relayAddr = netip.MustParseAddr("127.0.0.77")

// quietTarget is the most the calm phase's median target may be for the
// measurement to mean anything (20 ms on an idle host).
const quietTarget = 60

// The tones: the phone's microphone, and baresip's.
const phoneToneHz, farToneHz = 1030, 440

// impaired is the impairment of the scenario.
var impaired = impair.Settings{Loss: 0.05, Jitter: 30 * time.Millisecond, Reorder: 0.02, Duplicate: 0.01}

// TestImpairedCallJitterBufferAndConcealment runs the scenario with G.711
// (the phone conceals by waveform repetition; baresip has no PLC for it).
func TestImpairedCallJitterBufferAndConcealment(t *testing.T) {
	impairedCall(t, "PCMU,PCMA", []string{"PCMU", "PCMA"})
}

// TestImpairedCallOpus runs it with Opus (libopus's PLC, and in-band FEC
// where baresip sends it, on both sides).
func TestImpairedCallOpus(t *testing.T) {
	impairedCall(t, "opus/48000/2,PCMU,PCMA", []string{"OPUS", "PCMU", "PCMA"})
}

func impairedCall(t *testing.T, farCodecs string, phoneCodecs []string) {
	kam := kamailio(t)
	dir := t.TempDir()
	far, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: dir, User: "1002", Password: labUsers["1002"], Registrar: kam.Addr(),
		AnswerMode: "auto", ToneHz: farToneHz, Codecs: farCodecs,
	})
	if err != nil {
		t.Fatalf("starting baresip: %v", err)
	}
	t.Cleanup(func() {
		_ = far.Stop()
		if t.Failed() {
			t.Logf("baresip's log:\n%s", far.Log())
		}
	})
	cfg := phoneConfig(t, kam.Addr(), labUsers["1001"])
	// 1030 Hz: a 20 ms frame is not a whole number of its periods, so a
	// frame missing from baresip's recording shows as a splice.
	cfg.Sim.Input = fmt.Sprintf("tone:%d", phoneToneHz)
	cfg.Audio.Codecs = phoneCodecs
	u := startPhone(t, cfg)
	phoneLo, phoneHi := cfg.Audio.RTPPortRange()
	relay, err := impair.Start(impair.Config{
		Addr: relayAddr, Target: netip.MustParseAddr(labkit.Domain), Seed: 10,
		Ports: []impair.PortRange{{Lo: phoneLo, Hi: phoneHi + 1}},
		SideA: impair.PortRange{Lo: phoneLo, Hi: phoneHi + 1},
	})
	if err != nil {
		t.Fatalf("starting the relay: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	u.d.phone.SetMediaRelay(relay)
	u.registered()
	id := callFarEnd(t, u, far, "1002")
	if codec := u.sessionCodec(id); !strings.EqualFold(codec, phoneCodecs[0]) {
		t.Fatalf("the call's codec is %q, want %s", codec, phoneCodecs[0])
	}

	tCall := time.Now()
	// Phase 1, calm: after 3 s of start-up, 5 s whose median target is
	// the calm reference (a loaded machine's hiccups move the target too).
	waitRelayed(t, relay, relay.Stats().ToA.Received+150)
	var (
		tCalmFrom   time.Time
		calmTargets []float64
		calm        float64
	)
	// A host so loaded that the phone's own scheduling adds more jitter
	// than the relay would measure the machine, not the jitter buffer:
	// wait (up to three windows) for a calm one.
	for range 3 {
		tCalmFrom = time.Now()
		calmTargets = u.sampleTargets(id, relay, 250, nil)
		if calm = median(calmTargets); calm <= quietTarget {
			break
		}
		t.Logf("calm phase: target median %.1f ms (range %.1f-%.1f): the host adds jitter of its own; waiting", calm, slices.Min(calmTargets), slices.Max(calmTargets))
	}
	if calm > quietTarget {
		t.Skipf("this host's own scheduling jitter holds the jitter buffer's target at %.1f ms without impairment (over %d ms): too loaded to measure the relay's impairment", calm, quietTarget)
	}
	tImpair := time.Now()
	if err := relay.Set(impaired); err != nil {
		t.Fatal(err)
	}
	// Phase 2, impaired: 12 s.
	var peak phone.JitterInfo
	impairedTargets := u.sampleTargets(id, relay, 600, func(j phone.JitterInfo) {
		if j.TargetMs > peak.TargetMs {
			peak = j
		}
	})
	underImpair := u.jitterState(id)
	tHeavy := time.Now()
	// Phase 2b, heavy jitter (120 ms) for 4 s: a rise that a loaded
	// machine's own jitter cannot hide.
	heavy := impaired
	heavy.Jitter = 120 * time.Millisecond
	if err := relay.Set(heavy); err != nil {
		t.Fatal(err)
	}
	u.sampleTargets(id, relay, 200, func(j phone.JitterInfo) {
		if j.TargetMs > peak.TargetMs {
			peak = j
		}
	})
	tCalm := time.Now()
	if err := relay.Set(impair.Settings{}); err != nil {
		t.Fatal(err)
	}
	// Phase 3, calm again: the target comes back down, then 3 s more
	// calm audio to measure.
	var after phone.JitterInfo
	waitFor(t, 45*time.Second, func() bool {
		after = u.jitterState(id)
		return after.TargetMs < (calm+peak.TargetMs)/2
	}, func() string {
		return fmt.Sprintf("target %.1f ms 45 s after the impairment stopped (calm median %.1f, peak %.1f)", after.TargetMs, calm, peak.TargetMs)
	})
	tDown := time.Now()
	waitRelayed(t, relay, relay.Stats().ToA.Received+150)
	tEnd := time.Now()
	st := relay.Stats()
	u.must("POST", "/v1/terminate", map[string]string{"sessionId": id})
	u.wantEnded(id, phone.EndLocalBye)

	t.Logf("target fell back %.1f s after the impairment stopped", tDown.Sub(tCalm).Seconds())
	t.Logf("jitter buffer target: calm median %.1f ms (range %.1f-%.1f), impaired median %.1f ms", calm,
		slices.Min(calmTargets), slices.Max(calmTargets), median(impairedTargets))
	t.Logf("jitter buffer: peak under impairment %+v", peak)
	t.Logf("jitter buffer: end of impairment %+v", underImpair)
	t.Logf("jitter buffer: calm again %+v", after)
	t.Logf("relay: to the phone %+v; to baresip %+v; errors %d", st.ToA, st.ToB, relay.Errors())
	if peak.TargetMs < calm+40 {
		t.Errorf("target delay: calm median %.1f ms, peak under 30 then 120 ms jitter only %.1f", calm, peak.TargetMs)
	}
	if st.ToA.Dropped == 0 || st.ToA.Reordered == 0 || st.ToB.Dropped == 0 {
		t.Errorf("the relay impaired nothing: %+v", st)
	}
	if underImpair.Concealed == 0 || underImpair.Lost == 0 {
		t.Errorf("no loss concealed under 5 %% loss: %+v", underImpair)
	}

	// Gaps per phase, in what the phone played and what baresip recorded.
	// Phases are cut by wall clock from the end of each file (both end at
	// the hang-up), with a second's margin at each switch.
	phases := []phaseSpan{
		{"calm", tCalmFrom, tImpair},
		{"impaired", tImpair.Add(500 * time.Millisecond), tHeavy},
		{"calm again", tDown, tEnd},
	}
	phoneGaps := gapsByPhase(t, "phone", cfg.Sim.Output, farToneHz, tEnd, phases)
	recs, err := far.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recordings: %v %v", recs, err)
	}
	farGaps := gapsByPhase(t, "baresip", recs[len(recs)-1], phoneToneHz, tEnd, phases)
	// baresip writes nothing for a frame it did not get (no PLC for
	// G.711): its losses shorten the recording rather than leave silence.
	if a, err := wav.ReadFile(recs[len(recs)-1]); err == nil {
		rec := time.Duration(len(a.Mono())) * time.Second / time.Duration(a.Rate)
		t.Logf("baresip recorded %v of a %v call (%v missing); the relay dropped %d of %d packets to it",
			rec.Round(time.Millisecond), tEnd.Sub(tCall).Round(time.Millisecond), (tEnd.Sub(tCall) - rec).Round(time.Millisecond), st.ToB.Dropped, st.ToB.Received)
	}
	for i, p := range phases {
		t.Logf("%-10s %5.1f s: phone %d gaps (longest %v), %d splices; baresip %d gaps (longest %v), %d splices", p.name,
			p.to.Sub(p.from).Seconds(), phoneGaps[i].count, phoneGaps[i].longest, phoneGaps[i].splices,
			farGaps[i].count, farGaps[i].longest, farGaps[i].splices)
	}
	// The bounds are generous on purpose: a loaded CI machine adds its
	// own jitter. Without concealment 5 % loss alone leaves about 30
	// gaps of 20 ms in 12 s.
	if g := phoneGaps[0]; g.count > 3 {
		t.Errorf("the phone's speaker had %d gaps in the calm phase (longest %v)", g.count, g.longest)
	}
	if g := phoneGaps[1]; g.count > 12 || g.longest > 500*time.Millisecond {
		t.Errorf("the phone's speaker had %d gaps under impairment, longest %v; want at most 12, none over 500 ms", g.count, g.longest)
	}
	if g := phoneGaps[2]; g.count > 3 {
		t.Errorf("the phone's speaker had %d gaps once calm again (longest %v)", g.count, g.longest)
	}
}

// jitterState reads the session's jitter buffer from /v1/state.
func (u *dut) jitterState(id string) phone.JitterInfo {
	u.t.Helper()
	st := u.must("GET", "/v1/state", nil)
	list, _ := st["sessions"].([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		if m["sessionId"] != id {
			continue
		}
		jb, ok := m["jitterBuffer"].(map[string]any)
		if !ok {
			u.t.Fatalf("/v1/state shows no jitterBuffer for the call: %v", m)
		}
		num := func(k string) float64 { v, _ := jb[k].(float64); return v }
		return phone.JitterInfo{
			DelayMs: num("delayMs"), TargetMs: num("targetMs"), JitterMs: num("jitterMs"),
			Late: uint64(num("late")), Lost: uint64(num("lost")), Concealed: uint64(num("concealed")),
			Duplicates: uint64(num("duplicates")), DriftCorrections: uint64(num("driftCorrections")),
		}
	}
	u.t.Fatalf("session %s is not in /v1/state", id)
	return phone.JitterInfo{}
}

// sessionCodec reads the call's codec from /v1/state.
func (u *dut) sessionCodec(id string) string {
	u.t.Helper()
	list, _ := u.must("GET", "/v1/state", nil)["sessions"].([]any)
	for _, s := range list {
		if m, _ := s.(map[string]any); m["sessionId"] == id {
			c, _ := m["codec"].(string)
			return c
		}
	}
	return ""
}

// sampleTargets reads the call's target delay every 100 ms until the
// relay has passed n more datagrams to the phone, calling each (if not
// nil) with every reading.
func (u *dut) sampleTargets(id string, r *impair.Relay, n uint64, each func(phone.JitterInfo)) []float64 {
	u.t.Helper()
	var out []float64
	until := r.Stats().ToA.Received + n
	waitFor(u.t, time.Duration(n)*20*time.Millisecond+20*time.Second, func() bool {
		j := u.jitterState(id)
		out = append(out, j.TargetMs)
		if each != nil {
			each(j)
		}
		return r.Stats().ToA.Received >= until
	}, func() string { return fmt.Sprintf("the relay passed %+v; want %d to the phone", r.Stats(), until) })
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// waitRelayed waits until the relay has received n datagrams for the phone.
func waitRelayed(t *testing.T, r *impair.Relay, n uint64) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool { return r.Stats().ToA.Received >= n },
		func() string { return fmt.Sprintf("the relay passed %+v; want %d to the phone", r.Stats(), n) })
}

type phaseSpan struct {
	name     string
	from, to time.Time
}

type gapCount struct {
	count   int
	longest time.Duration
	splices int // jumps in the tone's phase: audio missing without silence, or a rough join
}

// gapsByPhase finds the gaps in a recording of a continuous tone of hz
// that ends at end: runs of 10 ms or more whose level is under a tenth of
// the recording's median level; and its splices: samples where the tone
// breaks off its sine (x[n] − 2cos ω·x[n−1] + x[n−2], zero for a pure
// sine, over a third of the amplitude), one per 20 ms at most.
func gapsByPhase(t *testing.T, who, path string, hz float64, end time.Time, phases []phaseSpan) []gapCount {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("%s's recording: %v", who, err)
	}
	mono := a.Mono()
	block := a.Rate / 200 // 5 ms
	levels := make([]float64, len(mono)/block)
	for i := range levels {
		var s float64
		for _, v := range mono[i*block : (i+1)*block] {
			s += float64(v) * float64(v)
		}
		levels[i] = math.Sqrt(s / float64(block))
	}
	sorted := append([]float64(nil), levels...)
	sort.Float64s(sorted)
	if len(sorted) == 0 || sorted[len(sorted)/2] < 100 {
		t.Fatalf("%s's recording %s holds no tone (%d blocks)", who, path, len(sorted))
	}
	quiet := sorted[len(sorted)/2] / 10
	splice := sorted[len(sorted)/2] * math.Sqrt2 / 3
	c := 2 * math.Cos(2*math.Pi*hz/float64(a.Rate))
	out := make([]gapCount, len(phases))
	for i, p := range phases {
		from := len(levels) - int(end.Sub(p.from)/(5*time.Millisecond))
		to := len(levels) - int(end.Sub(p.to)/(5*time.Millisecond))
		if from < 0 || to > len(levels) || from >= to {
			t.Fatalf("%s's recording (%v) does not cover the %s phase", who, time.Duration(len(levels))*5*time.Millisecond, p.name)
		}
		run := 0
		for k := from; k <= to; k++ {
			if k < to && levels[k] < quiet {
				run++
				continue
			}
			if run >= 2 {
				out[i].count++
				out[i].longest = max(out[i].longest, time.Duration(run)*5*time.Millisecond)
			}
			run = 0
		}
		last := -a.Rate
		for n := max(from*block, 2); n < to*block; n++ {
			r := float64(mono[n]) - c*float64(mono[n-1]) + float64(mono[n-2])
			if math.Abs(r) > splice && n-last >= a.Rate/50 && levels[n/block] >= quiet && levels[(n-2)/block] >= quiet {
				out[i].splices++
				last = n
			}
		}
	}
	return out
}
