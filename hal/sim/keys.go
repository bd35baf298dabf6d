package sim

import (
	"fmt"
	"slices"
	"strings"

	"deskphone/hal"
)

func baseKeys() []hal.Key {
	keys := []hal.Key{hal.KeyCall, hal.KeyEnd, hal.KeyMute, "*", "#"}
	for d := '0'; d <= '9'; d++ {
		keys = append(keys, hal.Key(d))
	}
	return keys
}

// Presses delivers the keys given to Press, in order. It is closed by Close.
func (b *Board) Presses() <-chan hal.Key { return b.keys }

// Press queues a key press for Presses. It never blocks: if too many
// presses are waiting unread it fails instead.
func (b *Board) Press(k hal.Key) error {
	if !b.valid[k] {
		return fmt.Errorf("sim: unknown key %q; valid keys are %s", k, b.keyList())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hal.ErrClosed
	}
	select {
	case b.keys <- k:
		return nil
	default:
		return fmt.Errorf("sim: key %q dropped: %d presses are already waiting and nothing reads Presses()", k, cap(b.keys))
	}
}

// keyList names the valid keys: the fixed ones first, then extras sorted.
func (b *Board) keyList() string {
	var extra []string
	base := baseKeys()
	for k := range b.valid {
		if !slices.Contains(base, k) {
			extra = append(extra, string(k))
		}
	}
	slices.Sort(extra)
	return strings.Join(append([]string{"0-9", "*", "#", string(hal.KeyCall), string(hal.KeyEnd), string(hal.KeyMute)}, extra...), " ")
}
