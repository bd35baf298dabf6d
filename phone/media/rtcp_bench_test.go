package media

import (
	"testing"
	"time"
)

// BenchmarkRTCPPerPacket is the receiver's per-packet RTCP work: arrival
// time, A.3 loss and A.8 jitter.
func BenchmarkRTCPPerPacket(b *testing.B) {
	s, _ := benchStream(b)
	b.ReportAllocs()
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		s.onRTP(1, uint16(i), uint32(i*160), true, now.Add(time.Duration(i)*20*time.Millisecond))
	}
}

// BenchmarkLevelMeter measures one 20 ms frame at 48 kHz.
func BenchmarkLevelMeter(b *testing.B) {
	var m LevelMeter
	f := levelSine(960, 0.5)
	b.ReportAllocs()
	for b.Loop() {
		m.Measure(f)
	}
}
