// Package atomic writes files so that a crash, a power cut or a kill -9 at
// any moment leaves either the old file or the new one, never a torn one:
// the data goes to a temporary file in the same directory, is fsynced,
// renamed over the target, and the directory is fsynced so the rename
// itself survives. Every file the phone writes (the provisioned config,
// the account cache, a config saved through the API) goes through here.
package atomic

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, created with perm (before umask).
// The directory is created (0700) if missing. The path is the phone's own
// (its config, cache or store setting), never one taken from the network.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil { //nolint:gosec // G703: the phone's configured path (see above)
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if err := fill(f, data, perm); err != nil {
		_ = f.Close()           // the fill's error is the one that matters
		_ = os.Remove(f.Name()) //nolint:gosec // G703: our own temp file; the target is untouched
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil { //nolint:gosec // G703: the phone's configured path
		_ = os.Remove(f.Name()) //nolint:gosec // G703: our own temp file
		return err
	}
	SyncDir(dir)
	return nil
}

// fill writes data to f with perm, flushes it to the disk and closes it.
func fill(f *os.File, data []byte, perm os.FileMode) error {
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flushing %s: %w", f.Name(), err)
	}
	return f.Close()
}

// SyncDir makes a rename in dir durable. Best effort: some filesystems
// cannot fsync a directory, and the rename has happened either way.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil { //nolint:gosec // G703: the phone's own directory
		_ = d.Sync()
		_ = d.Close() // read-only: nothing to flush
	}
}
