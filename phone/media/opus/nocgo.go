//go:build !cgo

package opus

// Opus needs libopus through cgo: a CGO_ENABLED=0 build registers no codec
// (see the package comment).
