package main

import (
	"strings"
	"testing"
	"time"

	"deskphone/phone/media"
)

func TestReportVerdicts(t *testing.T) {
	lat := &media.Latency{
		CaptureToWire:   media.LatencySummary{Count: 50, P50: 40 * time.Microsecond, P99: 300 * time.Microsecond},
		ArrivalToBuffer: media.LatencySummary{Count: 50, P50: 3 * time.Microsecond, P99: 12 * time.Microsecond},
		BufferToPlayout: media.LatencySummary{Count: 50, P50: 20500 * time.Microsecond, P99: 30 * time.Millisecond},
		JitterBuffer:    40 * time.Millisecond, JitterTarget: 40 * time.Millisecond, Ptime: 20 * time.Millisecond,
	}
	rs := []result{
		{Who: "phone", Codec: "PCMU", Window: time.Minute, CPU: 300 * time.Millisecond, Mem: memory{Peak: 20 << 20, Anon: 4 << 20},
			Frames: 3000, BytesPF: 0, ObjectsPF: 0, Latency: lat},
		{Who: "baresip", Codec: "PCMU", Window: time.Minute, CPU: 150 * time.Millisecond, Mem: memory{Peak: 10 << 20, Anon: 2 << 20}},
		{Who: "phone", Codec: "OPUS", Skipped: "the firmware does not take OPUS: audio.codecs: …"},
	}
	var b strings.Builder
	writeReport(&b, "## test", []string{"PCMU", "OPUS"}, rs)
	out := b.String()
	for _, want := range []string{
		"| PCMU | CPU ≤ 0.5× baresip's | 0.30 s | 0.15 s (0.5× = 0.07 s) | **missed** (2.00×) |",
		"| PCMU | peak RSS ≤ baresip's | 20.0 MB (anon 4.0) | 10.0 MB (anon 2.0) | **missed** |",
		"| PCMU | added delay ≤ one frame + 5 ms (25.0 ms) | 20.5 ms at p50, 30.3 ms at p99 | – | met |",
		"| PCMU | 0 allocations per frame | 0.0 B, 0.000 objects per frame | – | met |",
		"| OPUS | phone | – | – | – | – | skipped: the firmware does not take OPUS",
		"| capture → wire (Source.Read → WriteTo) | 50 | 40 µs |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
