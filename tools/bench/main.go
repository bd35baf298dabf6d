// Command bench measures the phone's media loop side by side with baresip
// (issue 10, `make bench-side`): in one lab — Kamailio and a baresip far end
// that answers every call, started by tools/labkit — it runs, for each
// codec, a call by the phone (the firmware binary on the sim board) and the
// same call by a baresip caller, each for -duration, and reports as
// markdown:
//
//   - CPU seconds (utime + stime from /proc/PID/stat) over the call and
//     peak RSS (VmHWM) of each calling process;
//   - the phone's heap allocations per 20 ms frame during the call, from
//     runtime/metrics (GET /debug/media, firmware -debug), less an idle
//     baseline (registered, no call) of -idle;
//   - the phone's own delay from the pipeline's stamps (phone/media
//     latency.go): capture → wire, arrival → jitter buffer, jitter buffer →
//     playout, and the jitter buffer's hold time;
//   - each against its target: CPU ≤ 0.5× baresip's with the same codec,
//     RSS ≤ baresip's, added delay ≤ one frame + 5 ms, 0 allocations per
//     frame. Figures are written even where a target is missed.
//
// A codec the firmware does not take (Opus before it lands) is skipped for
// the phone with the reason; baresip's figures are still measured.
//
// baresip's speaker is, by default, a device that never plays
// (-baresip-speaker none): the lab's usual one, ALSA's null device, is not
// paced, so its player thread spins a core and its CPU figures mean
// nothing. The phone's speaker is the sim board's WAV file, paced by the
// board's clock; both microphones are paced sine generators.
//
//	unshare -n -- bash -c 'ip link set lo up && bench -firmware bin/deskphone -duration 10s'
//
// -pprof DIR adds, after each measured phone call, a profiled one: a CPU
// profile and the allocations (pprof allocs, before and after) land in
// DIR for `go tool pprof`; the measured figures are taken without them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"deskphone/tools/labkit"
)

// Lab users: the phone, the far end both call, and the baresip caller.
const (
	phoneUser   = "1001"
	farEndUser  = "1002"
	callerUser  = "1003"
	farEndTone  = 440
	callerTone  = 1000
	nominalPtim = 20 * time.Millisecond // the phone's frame; Latency reports the stream's own
)

var labUsers = map[string]string{phoneUser: "bench1001", farEndUser: "bench1002", callerUser: "bench1003"}

// baresipCodec is a codec's name in baresip's audio_codecs.
var baresipCodec = map[string]string{"PCMU": "PCMU", "PCMA": "PCMA", "OPUS": "opus/48000/2"}

type options struct {
	firmware string
	dir      string
	duration time.Duration
	idle     time.Duration
	codecs   []string
	pprofDir string
	profile  time.Duration
	out      string
	noPlay   bool // baresip without a speaker (else ALSA's null device, which spins)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var codecs string
	fs.StringVar(&o.firmware, "firmware", "bin/deskphone", "the firmware binary to measure (make build)")
	fs.StringVar(&o.dir, "dir", "run/bench", "directory for configs, logs and profiles")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "length of each measured call")
	fs.DurationVar(&o.idle, "idle", 30*time.Second, "the phone's idle baseline (registered, no call) before its call")
	fs.StringVar(&codecs, "codecs", "PCMU,OPUS", "codecs to measure, comma-separated: PCMU, PCMA, OPUS")
	fs.StringVar(&o.pprofDir, "pprof", "", "also profile an extra phone call per codec and write the profiles here")
	fs.DurationVar(&o.profile, "profile-duration", 30*time.Second, "length of the profiled call (-pprof)")
	fs.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	audio := fs.String("baresip-speaker", "none", "baresip's speaker: none (a device that never plays), or null (the lab's default, ALSA's null device: not paced, its player thread spins on a core)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch *audio {
	case "none", "null":
		o.noPlay = *audio == "none"
	default:
		fmt.Fprintf(stderr, "bench: -baresip-speaker %q: use none or null\n", *audio)
		return 2
	}
	for _, c := range strings.Split(codecs, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if _, ok := baresipCodec[c]; !ok {
			fmt.Fprintf(stderr, "bench: -codecs: %q is not one of PCMU, PCMA, OPUS\n", c)
			return 2
		}
		o.codecs = append(o.codecs, c)
	}
	if o.duration < 2*time.Second || o.idle < time.Second {
		fmt.Fprintln(stderr, "bench: -duration must be at least 2s and -idle at least 1s (e.g. -duration 10s -idle 5s)")
		return 2
	}
	if fi, err := os.Stat(o.firmware); err != nil || fi.IsDir() {
		fmt.Fprintf(stderr, "bench: -firmware %s: not a file; build it first (make build)\n", o.firmware)
		return 2
	}
	if !labkit.InIsolatedNetwork() {
		fmt.Fprintln(stderr, "bench: not in a private network namespace (baresip binds RTP on every interface): run `make bench-side`, or unshare -n -- bash -c 'ip link set lo up && ...'")
		return 2
	}
	if err := labkit.CheckBinaries(); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rs, err := bench(ctx, o, stderr)
	hdr := fmt.Sprintf("## Side by side: the phone and baresip (tools/bench, %s)\n\n%s per call; the phone's idle baseline %s; baresip's speaker: %s; %d CPUs, %s; firmware %s",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), o.duration, o.idle, *audio, runtime.NumCPU(), kernel(), o.firmware)
	if len(rs) > 0 {
		writeReport(stdout, hdr, o.codecs, rs)
		if o.out != "" {
			f, ferr := os.Create(o.out)
			if ferr == nil {
				writeReport(f, hdr, o.codecs, rs)
				ferr = f.Close()
			}
			if ferr != nil {
				fmt.Fprintln(stderr, "bench: -out:", ferr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// bench starts the lab and measures every codec; what was measured before
// an error is returned with it.
func bench(ctx context.Context, o options, log io.Writer) (rs []result, err error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	kam, err := labkit.StartKamailio(labkit.KamailioOptions{Dir: filepath.Join(dir, "kamailio"), Users: labUsers, ProxyAuth: true})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, kam.Stop()) }()
	var all []string
	for _, c := range o.codecs {
		all = append(all, baresipCodec[c])
	}
	far, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: filepath.Join(dir, "far-end"), User: farEndUser, Password: labUsers[farEndUser], Registrar: kam.Addr(),
		AnswerMode: "auto", ToneHz: farEndTone, Codecs: strings.Join(all, ","), NoPlayback: o.noPlay,
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, far.Stop()) }()
	fmt.Fprintf(log, "bench: lab up: Kamailio %s, far end %s (baresip, auto-answer)\n", kam.Addr(), farEndUser)
	for _, c := range o.codecs {
		fmt.Fprintf(log, "bench: %s: the phone's call (%s idle, then %s)\n", c, o.idle, o.duration)
		r, perr := benchPhone(ctx, o, dir, kam.Addr(), c, log)
		rs = append(rs, failed(r, perr))
		if perr != nil {
			return rs, fmt.Errorf("phone, %s: %w", c, perr)
		}
		fmt.Fprintf(log, "bench: %s: the baresip caller's call (%s)\n", c, o.duration)
		b, berr := benchBaresip(ctx, o, dir, kam, far, c)
		rs = append(rs, failed(b, berr))
		if berr != nil {
			return rs, fmt.Errorf("baresip, %s: %w", c, berr)
		}
	}
	return rs, nil
}

// failed marks a call that did not finish, so the report shows why
// instead of figures it never measured.
func failed(r result, err error) result {
	if err != nil && r.Skipped == "" {
		r.Skipped = "did not finish: " + err.Error()
	}
	return r
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// sample is a reading of the phone's counters and CPU time.
type sample struct {
	m   debugMedia
	cpu time.Duration
	at  time.Time
}

func (p *phoneProc) sample() (sample, error) {
	m, err := p.media()
	if err != nil {
		return sample{}, fmt.Errorf("GET /debug/media: %w", err)
	}
	cpu, err := cpuTime(p.pid())
	return sample{m: m, cpu: cpu, at: time.Now()}, err
}

// benchPhone measures one phone call with codec. A codec the firmware
// refuses gives a skipped result and no error.
func benchPhone(ctx context.Context, o options, dir, registrar, codec string, log io.Writer) (result, error) {
	r := result{Who: "phone", Codec: codec}
	p, err := startPhone(o.firmware, filepath.Join(dir, "phone-"+strings.ToLower(codec)), registrar, codec, o.pprofDir != "")
	if err != nil {
		if strings.Contains(err.Error(), "audio.codecs") {
			r.Skipped = "the firmware does not take " + codec + ": " + refusal(err.Error())
			fmt.Fprintf(log, "bench: %s: %s\n", codec, r.Skipped)
			return r, nil
		}
		return r, err
	}
	defer func() { _ = p.stop() }() // stopped below; this is for the error paths
	// Idle baseline: two back-to-back readings give one reading's own
	// allocations (after a first one that warms the debug listener up);
	// the idle window's rate comes after.
	if _, err := p.sample(); err != nil {
		return r, err
	}
	a0, err := p.sample()
	if err != nil {
		return r, err
	}
	a1, err := p.sample()
	if err != nil {
		return r, err
	}
	if err := sleep(ctx, o.idle); err != nil {
		return r, err
	}
	a2, err := p.sample()
	if err != nil {
		return r, err
	}
	readBytes, readObjs := a1.m.HeapAllocBytes-a0.m.HeapAllocBytes, a1.m.HeapAllocObjects-a0.m.HeapAllocObjects
	idleSecs := a2.at.Sub(a1.at).Seconds()
	idleBytesS := (float64(a2.m.HeapAllocBytes-a1.m.HeapAllocBytes) - float64(readBytes)) / idleSecs
	idleObjsS := (float64(a2.m.HeapAllocObjects-a1.m.HeapAllocObjects) - float64(readObjs)) / idleSecs
	r.IdleCPU, r.IdleWindow, r.IdleBytesS = a2.cpu-a1.cpu, a2.at.Sub(a1.at).Round(time.Millisecond), idleBytesS

	if err := p.call(farEndUser, codec); err != nil {
		return r, err
	}
	b0, err := p.sample() // a reading costs more in a call: it carries the stream's figures
	if err != nil {
		return r, err
	}
	b1, err := p.sample()
	if err != nil {
		return r, err
	}
	if err := sleep(ctx, o.duration); err != nil {
		return r, err
	}
	b2, err := p.sample()
	if err != nil {
		return r, err
	}
	if err := p.hangup(); err != nil {
		return r, err
	}
	window := b2.at.Sub(b1.at)
	r.Window, r.CPU = window.Round(time.Millisecond), b2.cpu-b1.cpu
	r.GCs = b2.m.GCCycles - b1.m.GCCycles
	ptime := nominalPtim
	if len(b2.m.Streams) == 1 {
		l := b2.m.Streams[0]
		r.Latency, ptime = &l, l.Ptime
	} else {
		fmt.Fprintf(log, "bench: %s: the phone reported %d streams during its call, want 1: no delay figures\n", codec, len(b2.m.Streams))
	}
	r.Frames = window.Seconds() / ptime.Seconds()
	readBytes, readObjs = b1.m.HeapAllocBytes-b0.m.HeapAllocBytes, b1.m.HeapAllocObjects-b0.m.HeapAllocObjects
	callBytes := float64(b2.m.HeapAllocBytes-b1.m.HeapAllocBytes) - float64(readBytes) - idleBytesS*window.Seconds()
	callObjs := float64(b2.m.HeapAllocObjects-b1.m.HeapAllocObjects) - float64(readObjs) - idleObjsS*window.Seconds()
	r.BytesPF, r.ObjectsPF = callBytes/r.Frames, callObjs/r.Frames
	if r.Mem, err = readMemory(p.pid()); err != nil {
		return r, err
	}
	if o.pprofDir != "" {
		if err := profileCall(ctx, o, p, codec, log); err != nil {
			return r, err
		}
	}
	return r, p.stop()
}

// refusal is the config error's line about audio.codecs.
func refusal(msg string) string {
	for _, l := range strings.Split(msg, "\n") {
		if strings.Contains(l, "audio.codecs") {
			return strings.TrimSpace(l)
		}
	}
	return oneLine(msg)
}

// profileCall makes another call with a CPU profile over it and the
// allocation profile before and after, into o.pprofDir.
func profileCall(ctx context.Context, o options, p *phoneProc, codec string, log io.Writer) error {
	if err := os.MkdirAll(o.pprofDir, 0o750); err != nil {
		return err
	}
	base := filepath.Join(o.pprofDir, "phone-"+strings.ToLower(codec))
	if err := p.call(farEndUser, codec); err != nil {
		return err
	}
	if err := p.profile(ctx, "heap?gc=1", base+".allocs-before.pprof"); err != nil {
		return err
	}
	secs := int(o.profile.Seconds())
	if err := p.profile(ctx, fmt.Sprintf("profile?seconds=%d", secs), base+".cpu.pprof"); err != nil {
		return err
	}
	if err := p.profile(ctx, "heap?gc=1", base+".allocs-after.pprof"); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: %s: profiles in %s.{cpu,allocs-before,allocs-after}.pprof; e.g. go tool pprof -sample_index=alloc_space -base %s.allocs-before.pprof %s %s.allocs-after.pprof\n",
		codec, base, base, o.firmware, base)
	return p.hangup()
}

// benchBaresip measures a baresip caller's call to the far end.
func benchBaresip(ctx context.Context, o options, dir string, kam *labkit.Kamailio, far *labkit.Baresip, codec string) (result, error) {
	r := result{Who: "baresip", Codec: codec}
	b, err := labkit.StartBaresip(labkit.BaresipOptions{
		Dir: filepath.Join(dir, "caller-"+strings.ToLower(codec)), User: callerUser, Password: labUsers[callerUser],
		Registrar: kam.Addr(), ToneHz: callerTone, Codecs: baresipCodec[codec], NoPlayback: o.noPlay,
	})
	if err != nil {
		return r, err
	}
	defer func() { _ = b.Stop() }() // stopped below; this is for the error paths
	if err := b.Dial(far.URI(farEndUser)); err != nil {
		return r, err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_, err = b.WaitEvent(wctx, labkit.EventCallEstablished)
	cancel()
	if err != nil {
		return r, err
	}
	c0, err := cpuTime(b.PID())
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := sleep(ctx, o.duration); err != nil {
		return r, err
	}
	c1, err := cpuTime(b.PID())
	if err != nil {
		return r, err
	}
	r.Window, r.CPU = time.Since(t0).Round(time.Millisecond), c1-c0
	if err := b.Hangup(); err != nil {
		return r, err
	}
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	_, err = b.WaitEvent(wctx, labkit.EventCallClosed)
	cancel()
	if err != nil {
		return r, err
	}
	if r.Mem, err = readMemory(b.PID()); err != nil {
		return r, err
	}
	return r, b.Stop()
}
