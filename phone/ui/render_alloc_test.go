package ui_test

import (
	"runtime"
	"testing"
	"time"

	"deskphone/phone/ui"
)

// The display is rendered once a second during a call (the call timer):
// its garbage is a call's steady heap growth, measured by tools/bench.
func talkingModel() ui.Model {
	return with(func(m *ui.Model) {
		busy(m, 42*time.Second)
		m.Call = talking("1002", "", 42*time.Second)
	})
}

func BenchmarkRenderCall(b *testing.B) {
	m := talkingModel()
	b.ReportAllocs()
	for b.Loop() {
		ui.Render(m, 4, 20, now)
	}
}

// A second's render of a call must not rebuild tables: a bound on its
// heap bytes (it builds a handful of short strings), not on its time.
func TestRenderCallGarbage(t *testing.T) {
	m := talkingModel()
	ui.Render(m, 4, 20, now) // first use may build shared tables
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const renders = 50
	for range renders {
		ui.Render(m, 4, 20, now)
	}
	runtime.ReadMemStats(&after)
	perRender := (after.TotalAlloc - before.TotalAlloc) / renders
	t.Logf("%d heap bytes per render of a call", perRender)
	if perRender > 2048 {
		t.Errorf("rendering a call allocates %d bytes each time (a second's render): something rebuilds a table per render", perRender)
	}
}
