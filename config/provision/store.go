package provision

import (
	"bytes"
	"fmt"
	"os"

	"deskphone/config/atomic"
)

// storeNew stores data unless path holds it already (flash wears), and
// reports whether it wrote.
func storeNew(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	return true, store(path, data)
}

// store writes data to path atomically (config/atomic): a power cut
// leaves the old file or the new one, never half of one. The file is
// 0600: it holds passwords.
func store(path string, data []byte) error {
	if err := atomic.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	return nil
}
