package config

// FuzzParse: the loader takes any bytes (a local file, or one fetched from
// a provisioning server) and returns a configuration or an error naming
// the file, never a panic.

import (
	"os"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("examples/phone.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("account:\n  registrar: pbx:99999\n"))
	f.Add([]byte("audio:\n  rtp_ports: 40000-39999\ncalls:\n  ring_timout: 5s\n"))
	f.Add([]byte("a: &x [*x, *x]\nb: *x\n"))
	f.Add([]byte("account: {user: 1001, password: [1, {a: b}]}\n\t- x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatalf("a configuration and an error: %v", err)
			}
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("no configuration and no error")
		}
	})
}
