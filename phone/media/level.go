package media

import (
	"math"
	"sync/atomic"
)

// LevelMeter measures how loud PCM frames are, on the SDK's onAudioVolume
// scale 0–100: the frame's RMS in dBFS mapped linearly from levelFloor
// (and below: 0) to full scale (100). The media loop calls Measure once per
// frame; a reporter calls Take a few times a second and gets the loudest
// frame since its last Take, so a short word between two reports still
// shows. It allocates nothing, and Measure and Take may run on different
// goroutines. The zero value is ready to use.
type LevelMeter struct {
	peak atomic.Int32 // 1 + the loudest level since the last Take; 0 = no frame measured
}

// levelFloor is the quietest level that is not 0: -60 dBFS is below a
// quiet room through a telephone microphone.
const levelFloor = -60.0

// Level returns frame's level 0–100 without recording it.
func Level(frame []int16) int {
	if len(frame) == 0 {
		return 0
	}
	var sum int64
	for _, v := range frame {
		sum += int64(v) * int64(v)
	}
	if sum == 0 {
		return 0
	}
	// 20·log10(rms/32768) = 10·log10(mean square) − 20·log10(32768).
	db := 10*math.Log10(float64(sum)/float64(len(frame))) - 90.30899869919435
	lvl := int(math.Round((db - levelFloor) * 100 / -levelFloor))
	return max(0, min(100, lvl))
}

// Measure records frame's level.
func (m *LevelMeter) Measure(frame []int16) {
	lvl := int32(Level(frame)) + 1
	for {
		old := m.peak.Load()
		if lvl <= old || m.peak.CompareAndSwap(old, lvl) {
			return
		}
	}
}

// Take returns the loudest level since the last Take and starts a new
// period; ok is false when no frame was measured in between (no audio
// flows that way: the device is off, or the call is on hold).
func (m *LevelMeter) Take() (level int, ok bool) {
	v := m.peak.Swap(0)
	return int(max(v-1, 0)), v > 0
}

// TakeLevels returns the loudest microphone and speaker levels (0–100)
// since the last call; a direction with no audio device or no frames
// reports 0.
func (s *Stream) TakeLevels() (mic, speaker int) {
	mic, _ = s.levels[0].Take()
	speaker, _ = s.levels[1].Take()
	return mic, speaker
}
