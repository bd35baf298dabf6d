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

// BenchmarkRTCPReport is one report interval's RTCP work: build and send
// our compound report, and read the far end's (once every ~5 s, so its
// allocations are not per frame).
func BenchmarkRTCPReport(b *testing.B) {
	s, _ := benchStream(b)
	s.onRTP(1, 1, 160, true, time.Now())
	far, err := rtcpCompound(s.ssrc)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.buildReport(time.Now(), false); err != nil {
			b.Fatal(err)
		}
		s.receiveRTCP(far)
	}
}
