package phone

import (
	"math"
	"testing"
	"time"

	"deskphone/phone/event"
	"deskphone/phone/media"
)

// A call's media reports: the far end's tone shows as its onAudioVolume,
// our own RTCP reports rate the call in onNetworkQuality and /v1/state,
// and nothing of the session is reported after its onEnded.
func TestCallReportsQualityAndVolume(t *testing.T) {
	m := newMediaHarness(t)
	// The far end talks: a 1 kHz tone at half scale, paced like a phone.
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pcm, payload := make([]int16, 160), make([]byte, 160)
		seq, ts := uint16(0), uint32(0)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for i := range pcm {
				pcm[i] = int16(16000 * math.Sin(2*math.Pi*1000*float64(int(ts)+i)/8000))
			}
			k, _ := media.NewPCMU().Encode(pcm, payload)
			hdr := []byte{0x80, 0, byte(seq >> 8), byte(seq), byte(ts >> 24), byte(ts >> 16), byte(ts >> 8), byte(ts), 1, 2, 3, 4}
			_, _ = m.far.conn.WriteToUDP(append(hdr, payload[:k]...), m.far.to)
			seq++
			ts += 160
		}
	}()
	defer func() { close(stop); <-sent }()

	within := func(what string, match func(event.Event) bool) event.Event {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second) // RTCP's first report comes within 3.75 s
		for time.Now().Before(deadline) {
			m.rec.mu.Lock()
			for _, e := range m.rec.evs {
				if match(e) {
					m.rec.mu.Unlock()
					return e
				}
			}
			m.rec.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
		return event.Event{}
	}
	within("the far end's level in onAudioVolume", func(e event.Event) bool {
		v, ok := e.Data.(AudioVolumeInfo)
		return ok && e.Name == event.AudioVolume && v.SessionID == m.sid && v.UserID == "2000" && v.Volume > 50
	})
	// No microphone in this harness: the agent's own level is 0.
	within("the agent's level in onAudioVolume", func(e event.Event) bool {
		v, ok := e.Data.(AudioVolumeInfo)
		return ok && e.Name == event.AudioVolume && v.SessionID == m.sid && v.UserID != "2000" && v.UserID != "" && v.Volume == 0
	})
	q := within("onNetworkQuality rating the call", func(e event.Event) bool {
		v, ok := e.Data.(QualityInfo)
		return ok && e.Name == event.NetworkQuality && v.SessionID == m.sid && v.RTCPSent > 0 && v.Quality != media.QualityUnknown
	}).Data.(QualityInfo)
	// Audio arrives without loss and the far end sends no RTCP (no RTT):
	// the rating is the delay's alone — mostly the jitter buffer's, which
	// a loaded test machine can stretch — as the E-model has it.
	r := media.RFactor(time.Duration(q.Delay*float64(time.Millisecond)), 0, media.Impairment("PCMU"))
	if q.Loss != 0 || q.RTT != nil || q.RTCPReceived != 0 || q.Delay < 20 ||
		q.Quality != media.QualityLevel(r) || math.Abs(q.MOS-media.MOSFromR(r)) > 0.02 {
		t.Fatalf("onNetworkQuality = %+v; want no loss, no RTT, and the E-model's quality %d and MOS %.2f for its delay",
			q, media.QualityLevel(r), media.MOSFromR(r))
	}
	st := m.p.State()
	if len(st.Sessions) != 1 || st.Sessions[0].Quality == nil || st.Sessions[0].Quality.RTCPSent == 0 {
		t.Fatalf("/v1/state sessions = %+v; want the call's quality", st.Sessions)
	}

	if err := m.p.Terminate(m.sid); err != nil {
		t.Fatal(err)
	}
	<-m.done
	// Reports stop with the call: none of what was published follows
	// onEnded (they are published under the session's lock, and only while
	// it has not ended).
	m.rec.flush(t, m.p.Bus())
	m.rec.mu.Lock()
	defer m.rec.mu.Unlock()
	ended := false
	for _, e := range m.rec.evs {
		switch d := e.Data.(type) {
		case Ended:
			ended = ended || d.SessionID == m.sid
		case QualityInfo, AudioVolumeInfo:
			if ended {
				t.Fatalf("%s after onEnded: %+v", e.Name, d)
			}
		}
	}
	if !ended {
		t.Fatal("no onEnded")
	}
}
