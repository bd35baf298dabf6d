package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDTMFEventWireFormat(t *testing.T) {
	// RFC 4733 §2.3: digit 1, end, volume 10, 100 ms at 8 kHz.
	ev := DTMFEvent{Event: 1, End: true, Volume: 10, Duration: 800}
	buf := make([]byte, 8)
	n, err := ev.MarshalTo(buf)
	if err != nil || n != 4 {
		t.Fatalf("MarshalTo = %d, %v", n, err)
	}
	if want := []byte{0x01, 0x8A, 0x03, 0x20}; !bytes.Equal(buf[:n], want) {
		t.Errorf("wire bytes % x, want % x", buf[:n], want)
	}
	var got DTMFEvent
	if err := got.Unmarshal([]byte{0x0B, 0x3F, 0xFF, 0xFF}); err != nil {
		t.Fatal(err)
	}
	if got != (DTMFEvent{Event: 11, End: false, Volume: 63, Duration: 65535}) {
		t.Errorf("Unmarshal = %+v", got)
	}
	if err := got.Unmarshal(buf[:3]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("Unmarshal of 3 bytes = %v, want ErrShortBuffer", err)
	}
	if _, err := ev.MarshalTo(buf[:3]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("MarshalTo 3 bytes = %v, want ErrShortBuffer", err)
	}
}

func TestDigitEventMapping(t *testing.T) {
	for i, d := range "0123456789*#ABCD" {
		ev, err := DigitToEvent(d)
		if err != nil || int(ev) != i {
			t.Errorf("DigitToEvent(%q) = %d, %v; want %d", d, ev, err, i)
		}
		back, ok := EventToDigit(uint8(i))
		if !ok || back != d {
			t.Errorf("EventToDigit(%d) = %q, %v; want %q", i, back, ok, d)
		}
	}
	if ev, err := DigitToEvent('b'); err != nil || ev != 13 {
		t.Errorf("lower-case b = %d, %v; want 13", ev, err)
	}
	if _, ok := EventToDigit(16); ok {
		t.Error("event 16 (flash) reported as a digit")
	}
	for _, bad := range []rune{'E', 'x', ' ', '+', 'é'} {
		if _, err := DigitToEvent(bad); !errors.Is(err, ErrInvalidDigit) {
			t.Errorf("DigitToEvent(%q) = %v, want ErrInvalidDigit", bad, err)
		}
	}
}

func TestValidateDigits(t *testing.T) {
	if err := ValidateDigits("0123456789*#ABCDabcd"); err != nil {
		t.Errorf("all digits: %v", err)
	}
	if err := ValidateDigits(""); !errors.Is(err, ErrNoDigits) {
		t.Errorf("empty: %v, want ErrNoDigits", err)
	}
	err := ValidateDigits("12x4")
	if !errors.Is(err, ErrInvalidDigit) || !strings.Contains(err.Error(), `'x' at position 3`) {
		t.Errorf("12x4: %v; want ErrInvalidDigit naming 'x' at position 3", err)
	}
}

// eventPacket is one received telephone-event packet.
type eventPacket struct {
	ts uint32
	ev DTMFEvent
}

func feed(t *testing.T, r *DTMFReceiver, pkts []eventPacket) string {
	t.Helper()
	var got []rune
	buf := make([]byte, 4)
	for _, p := range pkts {
		if _, err := p.ev.MarshalTo(buf); err != nil {
			t.Fatal(err)
		}
		d, ok, err := r.Push(p.ts, buf)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, d)
		}
	}
	return string(got)
}

// digitPackets is how a sender sends one digit: growing duration, the end
// packet three times.
func digitPackets(ts uint32, ev uint8) []eventPacket {
	var p []eventPacket
	for d := uint16(160); d <= 800; d += 160 {
		p = append(p, eventPacket{ts, DTMFEvent{Event: ev, Volume: 10, Duration: d, End: d == 800}})
	}
	return append(p, p[len(p)-1], p[len(p)-1])
}

func TestDTMFReceiverOncePerEvent(t *testing.T) {
	var r DTMFReceiver
	var pkts []eventPacket
	for i, ev := range []uint8{1, 1, 11, 10} { // "11#*": a repeated digit is a new event
		pkts = append(pkts, digitPackets(1000+uint32(i)*1280, ev)...)
	}
	if got := feed(t, &r, pkts); got != "11#*" {
		t.Errorf("got %q, want 11#*", got)
	}
}

func TestDTMFReceiverLostStart(t *testing.T) {
	var r DTMFReceiver
	pkts := digitPackets(5000, 5)[4:] // only the three end packets arrive
	if got := feed(t, &r, pkts); got != "5" {
		t.Errorf("only end packets: got %q, want 5", got)
	}
}

func TestDTMFReceiverLateRetransmission(t *testing.T) {
	var r DTMFReceiver
	a, b := digitPackets(100, 2), digitPackets(2000, 3)
	// The last end packet of "2" arrives after "3" has started.
	pkts := append(append(a[:6:6], b[:2]...), a[6])
	pkts = append(pkts, b[2:]...)
	if got := feed(t, &r, pkts); got != "23" {
		t.Errorf("got %q, want 23", got)
	}
}

func TestDTMFReceiverIgnoresNonDigitEvents(t *testing.T) {
	var r DTMFReceiver
	pkts := append(digitPackets(10, 16), digitPackets(2000, 0)...) // flash, then 0
	if got := feed(t, &r, pkts); got != "0" {
		t.Errorf("got %q, want 0", got)
	}
	if _, _, err := r.Push(5, []byte{1}); err == nil {
		t.Error("a 1-byte payload was accepted")
	}
}

func TestDTMFSenderSchedule(t *testing.T) {
	s := newDTMFSender(20*time.Millisecond, 160)
	if err := s.enqueue("12"); err != nil {
		t.Fatal(err)
	}
	if err := s.enqueue("3x"); err == nil || s.pending() != 2 {
		t.Fatalf("a bad string was (partly) queued: err %v, pending %d", err, s.pending())
	}
	ts := uint32(0)
	var frames []dtmfFrame
	for range 20 {
		frames = append(frames, s.next(ts))
		ts += 160
	}
	// Digit 1: frames 0-6 (5 tone frames + 2 end repeats), one audio frame
	// of pause, digit 2 at frame 8.
	for i, f := range frames[:7] {
		wantEnd := i >= 4
		dur := uint16(min(i+1, 5) * 160)
		if !f.send || f.timestamp != 0 || f.marker != (i == 0) || f.ev.Event != 1 || f.ev.End != wantEnd || f.ev.Duration != dur {
			t.Errorf("frame %d: %+v; want event 1 ts 0 duration %d end %v marker %v", i, f, dur, wantEnd, i == 0)
		}
	}
	if frames[7].send {
		t.Error("frame 7 should be audio (pause between digits)")
	}
	if f := frames[8]; !f.send || !f.started || !f.marker || f.ev.Event != 2 || f.timestamp != 8*160 {
		t.Errorf("frame 8: %+v; want the start of digit 2 at ts 1280", f)
	}
	for i, f := range frames[15:] {
		if f.send {
			t.Errorf("frame %d sends an event after the queue drained", 15+i)
		}
	}
	full := strings.Repeat("1", dtmfQueueSize+1)
	if err := s.enqueue(full); !errors.Is(err, ErrDTMFQueueFull) {
		t.Errorf("overfilling the queue: %v, want ErrDTMFQueueFull", err)
	}
}
