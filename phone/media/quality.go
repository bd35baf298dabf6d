package media

import (
	"strings"
	"time"
)

// The E-model (ITU-T G.107), simplified as is usual for VoIP monitoring:
//
//	R = 93.2 − Id − Ie,eff
//
// with the default R0 − Is (93.2) and advantage factor 0. Id is the delay
// impairment from the one-way mouth-to-ear delay (Cole & Rosenbluth's fit
// of G.107's Idd); Ie,eff is the codec's equipment impairment Ie raised by
// packet loss Ppl (%) through its loss robustness Bpl:
//
//	Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl)     (random loss, BurstR = 1)
//
// MOS follows from R by G.107 Annex B.

// CodecImpairment is a codec's equipment impairment Ie and packet-loss
// robustness Bpl for the E-model.
type CodecImpairment struct {
	Ie  float64
	Bpl float64
	// Lookahead is the encoder's algorithmic delay.
	Lookahead time.Duration
}

// Impairment gives the E-model values for a codec by its SDP name.
//   - G.711 (PCMU, PCMA): Ie 0, Bpl 25.1 with packet loss concealment
//     (ITU-T G.113 Appendix I); 4.3 is its value without PLC.
//   - Opus: ITU-T lists no Ie for it. Ie 0 (at the default bitrate its
//     narrowband quality is at least G.711's) and Bpl 30 (its PLC and
//     in-band FEC conceal better than G.711 Appendix I) are estimates, and
//     its 6.5 ms lookahead counts as delay.
//   - Any other codec: G.711 without PLC, the cautious choice.
func Impairment(codec string) CodecImpairment {
	switch strings.ToUpper(codec) {
	case "PCMU", "PCMA":
		return CodecImpairment{Ie: 0, Bpl: 25.1}
	case "OPUS":
		return CodecImpairment{Ie: 0, Bpl: 30, Lookahead: 6500 * time.Microsecond}
	default:
		return CodecImpairment{Ie: 0, Bpl: 4.3}
	}
}

// RFactor is the E-model's transmission rating R for a one-way delay and a
// packet loss ratio (0–1), clamped to 0–100.
func RFactor(oneWay time.Duration, loss float64, c CodecImpairment) float64 {
	d := float64(oneWay) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	ppl := max(0, min(100, loss*100))
	ie := c.Ie
	if ppl > 0 {
		ie += (95 - c.Ie) * ppl / (ppl + c.Bpl)
	}
	return max(0, min(100, 93.2-id-ie))
}

// MOSFromR is G.107 Annex B's estimate of the mean opinion score (1–4.5)
// for a rating R.
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	default:
		return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
	}
}

// Network quality on the SDK's scale (tccc-agent.md §3.2, TCCCQuality_*).
const (
	QualityUnknown   = 0 // nothing measured yet
	QualityExcellent = 1
	QualityGood      = 2
	QualityPoor      = 3 // the guide's "average"
	QualityBad       = 4
	QualityVbad      = 5
	QualityDown      = 6 // below the minimum for a call: no audio arrives
)

// QualityLevel maps a rating R to the SDK's scale by G.107's user
// satisfaction bands (R 80 / 70 / 60 / 50, MOS about 4.0 / 3.6 / 3.1 / 2.6).
func QualityLevel(r float64) int {
	switch {
	case r >= 80:
		return QualityExcellent
	case r >= 70:
		return QualityGood
	case r >= 60:
		return QualityPoor
	case r >= 50:
		return QualityBad
	default:
		return QualityVbad
	}
}
