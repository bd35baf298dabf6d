package phone

import (
	"time"

	"deskphone/phone/media"
)

// JitterInfo is a call's jitter buffer and loss concealment as /v1/state
// shows them: delays in milliseconds, counts since the call started.
type JitterInfo struct {
	DelayMs          float64 `json:"delayMs"`  // playout delay now
	TargetMs         float64 `json:"targetMs"` // the delay it aims for, from the measured jitter
	JitterMs         float64 `json:"jitterMs"` // interarrival jitter (RFC 3550)
	Late             uint64  `json:"late"`
	Lost             uint64  `json:"lost"`
	Concealed        uint64  `json:"concealed"`
	Duplicates       uint64  `json:"duplicates"`
	DriftCorrections uint64  `json:"driftCorrections"`
}

// jitterInfo reads a stream's jitter buffer; nil without a stream.
func jitterInfo(st *media.Stream) *JitterInfo {
	if st == nil {
		return nil
	}
	j := st.JitterStats()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &JitterInfo{
		DelayMs: ms(j.Delay), TargetMs: ms(j.Target), JitterMs: ms(j.Jitter),
		Late: j.Late, Lost: j.Lost, Concealed: j.Concealed, Duplicates: j.Duplicates,
		DriftCorrections: j.DriftCorrections,
	}
}
