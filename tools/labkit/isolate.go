package labkit

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Peer binaries the kit starts; Require checks them all.
var peerBinaries = []string{"kamailio", "kamcmd", "baresip", "sipsak", "sipp"}

// InIsolatedNetwork reports whether loopback is the only network interface,
// which is what `unshare -n` gives. Links named dplab* are the kit's own
// (NewNetNS) and do not count: tests in other packages call Require while
// a test has such a link up in the same namespace.
func InIsolatedNetwork() bool {
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) == 0 {
		return false
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 && !strings.HasPrefix(ifc.Name, "dplab") {
			return false
		}
	}
	return true
}

// Require stops t unless the peers can run: outside a private network
// namespace it skips (fails when DESKPHONE_E2E=1, so `make test` cannot
// silently skip), and it fails when a peer binary is missing.
func Require(t testing.TB) {
	t.Helper()
	if !InIsolatedNetwork() {
		const msg = "end-to-end test: run `make test` (it runs the suite inside a private network namespace with the real peers)"
		if os.Getenv("DESKPHONE_E2E") == "1" {
			t.Fatal("DESKPHONE_E2E=1 but this is not an isolated network namespace; " + msg)
		}
		t.Skip(msg)
	}
	if err := CheckBinaries(); err != nil {
		t.Fatal(err)
	}
}

// CheckBinaries returns an error naming the first peer binary not in PATH.
func CheckBinaries() error {
	for _, b := range peerBinaries {
		if _, err := exec.LookPath(b); err != nil {
			return &missingError{b}
		}
	}
	return nil
}

type missingError struct{ bin string }

func (e *missingError) Error() string { return e.bin + " not found: run `make deps`" }
