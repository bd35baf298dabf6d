package main

// -debug ADDR: a loopback-only HTTP listener for profiling a running phone
// (tools/bench uses it): net/http/pprof, and /debug/media with the heap
// allocation counters from runtime/metrics and the media pipeline's delay.
// It is off unless asked for, and never on the control API's listener:
// profiles show the process's internals.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/metrics"
	"time"

	"deskphone/phone/media"
)

// DebugMedia is GET /debug/media's answer: cumulative counters, so a
// client takes two readings and subtracts (a baseline while idle, then
// during a call).
type DebugMedia struct {
	HeapAllocBytes   uint64          `json:"heapAllocBytes"`   // /gc/heap/allocs:bytes
	HeapAllocObjects uint64          `json:"heapAllocObjects"` // /gc/heap/allocs:objects
	GCCycles         uint64          `json:"gcCycles"`         // /gc/cycles/total:gc-cycles
	Goroutines       uint64          `json:"goroutines"`       // /sched/goroutines:goroutines
	Streams          []media.Latency `json:"streams"`          // every running RTP stream
}

var debugSamples = []string{
	"/gc/heap/allocs:bytes", "/gc/heap/allocs:objects", "/gc/cycles/total:gc-cycles", "/sched/goroutines:goroutines",
}

func readDebugMedia() DebugMedia {
	// runtime/metrics counts a size class's whole span as allocated when a
	// P takes it, so between readings the counters jump by up to a span
	// per size class. ReadMemStats (a short stop-the-world) hands every
	// P's spans back first, which makes the counters exact: a per-frame
	// figure over a few thousand frames needs that.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := make([]metrics.Sample, len(debugSamples))
	for i, n := range debugSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0 // not in this Go version
		}
		return s[i].Value.Uint64()
	}
	return DebugMedia{HeapAllocBytes: v(0), HeapAllocObjects: v(1), GCCycles: v(2), Goroutines: v(3), Streams: media.LiveLatency()}
}

// startDebug serves the debug routes on addr, which must be a loopback
// address; it returns a function that stops the listener.
func startDebug(addr string, log *slog.Logger) (func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-debug %q: %w (use 127.0.0.1:PORT)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-debug %q: profiles expose the process's memory; give a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-debug: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/media", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(readDebugMedia()) // a client gone mid-answer: nothing to do
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug listener stopped", "error", err)
		}
	}()
	log.Info("debug listener: pprof and /debug/media", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
