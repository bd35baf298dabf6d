package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"deskphone/phone/media"
)

// result is one measured call.
type result struct {
	Who     string // "phone" or "baresip"
	Codec   string
	Skipped string // why there are no figures; "" = measured
	Window  time.Duration
	CPU     time.Duration // during the call window
	Mem     memory        // peak RSS over the process's life (start, idle, call); anon and file RSS after the call

	// The phone only.
	IdleCPU    time.Duration // during the idle baseline
	IdleWindow time.Duration
	Frames     float64 // call window / ptime
	BytesPF    float64 // heap bytes allocated per frame beyond the idle baseline
	ObjectsPF  float64
	IdleBytesS float64 // idle heap allocation rate, bytes/s
	GCs        uint64  // GC cycles during the call window
	Latency    *media.Latency
}

// delayTarget is the added-delay target: one frame + 5 ms.
func delayTarget(ptime time.Duration) time.Duration { return ptime + 5*time.Millisecond }

// addedDelay is the phone's own delay, both directions' stages at p50 and
// at p99, without the jitter buffer's chosen hold time.
func addedDelay(l *media.Latency) (p50, p99 time.Duration) {
	p50 = l.CaptureToWire.P50 + l.ArrivalToBuffer.P50 + l.BufferToPlayout.P50
	p99 = l.CaptureToWire.P99 + l.ArrivalToBuffer.P99 + l.BufferToPlayout.P99
	return p50, p99
}

func find(rs []result, who, codec string) *result {
	for i := range rs {
		if rs[i].Who == who && rs[i].Codec == codec {
			return &rs[i]
		}
	}
	return nil
}

func mb(b int64) string           { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func pctCore(cpu, window time.Duration) string {
	if window <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", 100*cpu.Seconds()/window.Seconds())
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// writeReport renders the results as markdown.
func writeReport(w io.Writer, hdr string, codecs []string, rs []result) {
	fmt.Fprintf(w, "%s\n\n", hdr)
	fmt.Fprintln(w, "| codec | caller | call CPU (s) | % of a core | peak RSS (MB) | anon / file RSS (MB) | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, c := range codecs {
		for _, who := range []string{"phone", "baresip"} {
			r := find(rs, who, c)
			if r == nil {
				continue
			}
			if r.Skipped != "" {
				fmt.Fprintf(w, "| %s | %s | – | – | – | – | skipped: %s |\n", c, who, oneLine(r.Skipped))
				continue
			}
			note := ""
			if who == "phone" {
				note = fmt.Sprintf("idle %s s over %s (%s)", secs(r.IdleCPU), r.IdleWindow, pctCore(r.IdleCPU, r.IdleWindow))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s / %s | %s |\n", c, who, secs(r.CPU), pctCore(r.CPU, r.Window), mb(r.Mem.Peak), mb(r.Mem.Anon), mb(r.Mem.File), note)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| codec | target | phone | baresip | |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, c := range codecs {
		p, b := find(rs, "phone", c), find(rs, "baresip", c)
		if p == nil || p.Skipped != "" {
			continue
		}
		if b != nil && b.Skipped == "" {
			ratio := p.CPU.Seconds() / b.CPU.Seconds()
			fmt.Fprintf(w, "| %s | CPU ≤ 0.5× baresip's | %s s | %s s (0.5× = %.2f s) | %s (%.2f×) |\n",
				c, secs(p.CPU), secs(b.CPU), b.CPU.Seconds()/2, verdict(ratio <= 0.5), ratio)
			fmt.Fprintf(w, "| %s | peak RSS ≤ baresip's | %s MB (anon %s) | %s MB (anon %s) | %s |\n",
				c, mb(p.Mem.Peak), mb(p.Mem.Anon), mb(b.Mem.Peak), mb(b.Mem.Anon), verdict(p.Mem.Peak <= b.Mem.Peak))
		}
		if p.Latency != nil {
			p50, p99 := addedDelay(p.Latency)
			t := delayTarget(p.Latency.Ptime)
			fmt.Fprintf(w, "| %s | added delay ≤ one frame + 5 ms (%s) | %s at p50, %s at p99 | – | %s |\n",
				c, ms(t), ms(p50), ms(p99), verdict(p50 <= t))
		}
		fmt.Fprintf(w, "| %s | 0 allocations per frame | %.1f B, %.3f objects per frame | – | %s |\n",
			c, p.BytesPF, p.ObjectsPF, verdict(p.ObjectsPF < 0.01))
	}
	for _, c := range codecs {
		p := find(rs, "phone", c)
		if p == nil || p.Skipped != "" || p.Latency == nil {
			continue
		}
		l := p.Latency
		fmt.Fprintf(w, "\nThe phone's delay, %s (ptime %s; %d GC cycles in the call; heap while idle %.0f B/s):\n\n", c, l.Ptime, p.GCs, p.IdleBytesS)
		fmt.Fprintln(w, "| stage | count | p50 | p90 | p99 | max |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, st := range []struct {
			name string
			s    media.LatencySummary
		}{
			{"capture → wire (Source.Read → WriteTo)", l.CaptureToWire},
			{"arrival → jitter buffer (ReadFrom → Push)", l.ArrivalToBuffer},
			{"jitter buffer → playout (Pop → Sink.Write returned)", l.BufferToPlayout},
		} {
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", st.name, st.s.Count, ms(st.s.P50), ms(st.s.P90), ms(st.s.P99), ms(st.s.Max))
		}
		fmt.Fprintf(w, "| jitter buffer: playout delay of the last frame (target %s; chosen, not added work) | | %s | | | |\n", ms(l.JitterTarget), ms(l.JitterBuffer))
	}
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.ReplaceAll(s, "|", "/")
}
