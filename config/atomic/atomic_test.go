package atomic

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The child process: rewrite the file with alternating contents until
// killed. Run by TestKillNineLeavesOldOrNew through the test binary.
func TestMain(m *testing.M) {
	if path := os.Getenv("ATOMIC_WRITER_PATH"); path != "" {
		a, b := contents()
		for i := 0; ; i++ {
			data := a
			if i%2 == 1 {
				data = b
			}
			if err := WriteFile(path, data, 0o600); err != nil {
				os.Exit(3)
			}
			if i == 0 {
				_ = os.WriteFile(path+".started", nil, 0o600)
			}
		}
	}
	os.Exit(m.Run())
}

// contents are two versions of a file, large enough that a write takes a
// while (a torn file would show a mix or a short read).
func contents() (a, b []byte) {
	return bytes.Repeat([]byte("old version of the file\n"), 40000), bytes.Repeat([]byte("NEW VERSION OF THE FILE\n"), 50000)
}

func TestWriteFileReplacesAndKeepsPerm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "account.json")
	if err := WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("file holds %q, %v; want two", got, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temp left behind)", len(ents))
	}
}

func TestWriteFileErrorLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(path, "below-a-file"), []byte("x"), 0o600); err == nil {
		t.Fatal("writing below a regular file succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "kept" {
		t.Fatalf("target now holds %q", got)
	}
}

// kill -9 at random moments while another process rewrites the file: the
// file is always exactly the old or the new version.
func TestKillNineLeavesOldOrNew(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a, b := contents()
	rng := rand.New(rand.NewPCG(7, 9))
	dir := t.TempDir()
	kills := 30
	for i := range kills {
		path := filepath.Join(dir, "state-"+strconv.Itoa(i))
		cmd := exec.Command(exe, "-test.run", "^$")
		cmd.Env = append(os.Environ(), "ATOMIC_WRITER_PATH="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(path + ".started"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatal("the writer never wrote its first file")
			}
			time.Sleep(5 * time.Millisecond)
		}
		// A random moment within the next few writes.
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kill %d: the file is gone: %v", i, err)
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("kill %d: the file is torn (%d bytes, neither version)", i, len(got))
		}
	}
	t.Logf("%d kill -9 during rewrites: every file was whole", kills)
}
