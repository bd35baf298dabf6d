package main

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDebugListenerRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":6060", "192.0.2.1:6060", "nohost"} {
		stop, err := startDebug(addr, slog.New(slog.DiscardHandler))
		if err == nil {
			stop()
			t.Errorf("-debug %q was accepted; profiles must stay on loopback", addr)
			continue
		}
		if !strings.Contains(err.Error(), "-debug") {
			t.Errorf("-debug %q: error %q does not name the flag", addr, err)
		}
	}
}

func TestDebugMedia(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // a free port for the debug listener
	stop, err := startDebug(addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := &http.Client{Timeout: 5 * time.Second}
	read := func() DebugMedia {
		t.Helper()
		resp, err := c.Get("http://" + addr + "/debug/media")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m DebugMedia
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := read()
	sink = make([]byte, 1<<20) // a known allocation between the readings
	b := read()
	if a.HeapAllocBytes == 0 || b.HeapAllocBytes-a.HeapAllocBytes < 1<<20 || b.HeapAllocObjects <= a.HeapAllocObjects {
		t.Errorf("heap counters %+v then %+v: a 1 MiB allocation between them is not counted", a, b)
	}
	resp, err := c.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/debug/pprof/: %s", resp.Status)
	}
}

var sink []byte
