package media

import (
	"math"
	"testing"
	"time"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// Reference values worked from G.107's formulas by hand.
func TestEModel(t *testing.T) {
	g711, opus := Impairment("PCMU"), Impairment("opus")
	cases := []struct {
		name      string
		delay     time.Duration
		loss      float64
		imp       CodecImpairment
		wantR     float64
		wantMOS   float64
		wantLevel int
	}{
		// No delay, no loss: G.107's default R0−Is, MOS 4.41.
		{"ideal", 0, 0, g711, 93.2, 4.41, QualityExcellent},
		// A LAN call: 80 ms mouth to ear → Id 1.92, MOS 4.37 (about 4.4).
		{"G.711 80ms", 80 * time.Millisecond, 0, g711, 91.28, 4.37, QualityExcellent},
		// 1 % random loss with PLC: Ie,eff = 95·1/(1+25.1) = 3.64.
		{"G.711 1% loss", 80 * time.Millisecond, 0.01, g711, 87.64, 4.28, QualityExcellent},
		// 5 %: Ie,eff = 95·5/30.1 = 15.78 → R 75.5, "some users dissatisfied".
		{"G.711 5% loss", 80 * time.Millisecond, 0.05, g711, 75.50, 3.84, QualityGood},
		// 300 ms: Id = 7.2 + 0.11·122.7 = 20.70.
		{"G.711 300ms", 300 * time.Millisecond, 0, g711, 72.50, 3.72, QualityGood},
		// 10 % loss: Ie,eff = 95·10/35.1 = 27.07.
		{"G.711 10% loss", 80 * time.Millisecond, 0.10, g711, 64.21, 3.31, QualityPoor},
		// Opus conceals loss better: 5 % → Ie,eff = 95·5/35 = 13.57.
		{"Opus 5% loss", 80 * time.Millisecond, 0.05, opus, 77.71, 3.93, QualityGood},
		// Everything lost: Ie,eff = 95·100/125.1 = 75.94.
		{"all lost", 80 * time.Millisecond, 1, g711, 15.34, 1.13, QualityVbad},
	}
	for _, c := range cases {
		r := RFactor(c.delay, c.loss, c.imp)
		mos := MOSFromR(r)
		if !near(r, c.wantR, 0.01) || !near(mos, c.wantMOS, 0.01) || QualityLevel(r) != c.wantLevel {
			t.Errorf("%s: R %.2f MOS %.2f level %d; want R %.2f MOS %.2f level %d",
				c.name, r, mos, QualityLevel(r), c.wantR, c.wantMOS, c.wantLevel)
		}
	}
	if MOSFromR(-5) != 1 || MOSFromR(120) != 4.5 || !near(MOSFromR(50), 2.575, 0.001) || !near(MOSFromR(80), 4.024, 0.001) {
		t.Errorf("MOS(R) off G.107 Annex B at the edges or the band limits")
	}
	if Impairment("G729").Bpl != 4.3 {
		t.Error("an unknown codec should get G.711's Bpl without PLC")
	}
}
