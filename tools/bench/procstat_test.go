package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A real line's shape, with a command name holding a space and ')'.
	line := "4242 (bare sip) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 150 37 0 0 20 0 9 0 123456 1000000 2500 18446744073709551615\n"
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 187 * 10 * time.Millisecond; got != want {
		t.Errorf("utime 150 + stime 37 ticks = %v, want %v", got, want)
	}
	for _, bad := range []string{"4242 bare S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 abc 37 0"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) accepted a malformed line", bad)
		}
	}
}

func TestParseMemory(t *testing.T) {
	status := "Name:\tdeskphone\nVmPeak:\t 1263448 kB\nVmHWM:\t   10896 kB\nVmRSS:\t   10500 kB\nRssAnon:\t    3684 kB\nRssFile:\t    6816 kB\n"
	got, err := parseMemory(bufio.NewScanner(strings.NewReader(status)))
	if want := (memory{Peak: 10896 * 1024, Anon: 3684 * 1024, File: 6816 * 1024}); err != nil || got != want {
		t.Errorf("parseMemory = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseMemory(bufio.NewScanner(strings.NewReader("Name:\tkthreadd\n"))); err == nil {
		t.Error("a status without the memory lines was accepted")
	}
	if _, err := parseMemory(bufio.NewScanner(strings.NewReader("VmHWM:\t 12 MB\n"))); err == nil {
		t.Error("a VmHWM not in kB was accepted")
	}
}

// The parsers read this very process's files too.
func TestOwnProcess(t *testing.T) {
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Error(err)
	}
	m, err := readMemory(os.Getpid())
	if err != nil || m.Peak <= 0 || m.Anon <= 0 {
		t.Errorf("own memory %+v, %v", m, err)
	}
}
