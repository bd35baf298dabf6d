package media

import (
	"encoding/binary"
	"fmt"
)

// RFC 4733 telephone-event payload (section 2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// DTMFPayloadSize is the size of one telephone-event payload.
const DTMFPayloadSize = 4

// DTMFEvent is one telephone-event payload.
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 = *, 11 = #, 12-15 = A-D
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level in -dBm0, 0-63 (tones are usually sent at 10)
	Duration uint16 // in RTP clock units since the event's timestamp
}

// MarshalTo writes the payload into buf and returns its size.
func (e DTMFEvent) MarshalTo(buf []byte) (int, error) {
	if len(buf) < DTMFPayloadSize {
		return 0, errShortDTMF
	}
	buf[0] = e.Event
	buf[1] = e.Volume & 0x3F
	if e.End {
		buf[1] |= 0x80
	}
	binary.BigEndian.PutUint16(buf[2:], e.Duration)
	return DTMFPayloadSize, nil
}

// Unmarshal reads a payload. Bytes beyond the first four (RFC 4733 allows
// several events in one packet via redundancy) are ignored.
func (e *DTMFEvent) Unmarshal(buf []byte) error {
	if len(buf) < DTMFPayloadSize {
		return errShortDTMF
	}
	e.Event = buf[0]
	e.End = buf[1]&0x80 != 0
	e.Volume = buf[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(buf[2:])
	return nil
}

var errShortDTMF = fmt.Errorf("%w: a telephone-event payload is %d bytes", ErrShortBuffer, DTMFPayloadSize)

const dtmfDigits = "0123456789*#ABCD" // index = event code

// DigitToEvent maps a DTMF digit (0-9 * # A-D, a-d accepted) to its event code.
func DigitToEvent(d rune) (uint8, error) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for i, c := range dtmfDigits {
		if c == d {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q: use 0-9, *, # or A-D", ErrInvalidDigit, d)
}

// EventToDigit maps an event code to its digit; ok is false for events that
// are not DTMF digits (16 and up: flash, modem tones, ...).
func EventToDigit(ev uint8) (digit rune, ok bool) {
	if int(ev) >= len(dtmfDigits) {
		return 0, false
	}
	return rune(dtmfDigits[ev]), true
}

// ValidateDigits checks a whole DTMF string before anything is sent, so a
// typo sends nothing rather than half a number.
func ValidateDigits(s string) error {
	if s == "" {
		return ErrNoDigits
	}
	for i, r := range s {
		if _, err := DigitToEvent(r); err != nil {
			return fmt.Errorf("%w %q at position %d of %q: use 0-9, *, # or A-D", ErrInvalidDigit, r, i+1, s)
		}
	}
	return nil
}
