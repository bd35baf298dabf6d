package provision

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// storeNew stores data unless path holds it already (flash wears), and
// reports whether it wrote.
func storeNew(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	return true, store(path, data)
}

// store writes data to path atomically: a temporary file in the same
// directory, synced, then renamed over path, so a power cut leaves the old
// file or the new one, never half of one. The file is 0600: it holds
// passwords.
func store(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()           // the error being returned is the one that matters
			_ = os.Remove(f.Name()) // a leftover temp file is harmless
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("provisioning.store: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		_ = d.Close() // read-only: nothing to flush
	}
	return nil
}
