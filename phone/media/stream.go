package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// StreamConfig describes one call's RTP stream.
type StreamConfig struct {
	Conn            *net.UDPConn  // local RTP socket; the stream owns and closes it
	Remote          *net.UDPAddr  // far end's RTP address (may change later via SetRemote)
	Codec           Codec         // the negotiated codec
	PayloadType     uint8         // negotiated PT for Codec
	DTMFPayloadType uint8         // negotiated telephone-event PT; 0 = none
	Source          AudioSource   // nil = silence paced by an internal ticker
	Sink            AudioSink     // nil = discard, paced by an internal ticker
	Ptime           time.Duration // packet time; default 20 ms
	OnDTMF          func(digit rune)
	OnFirstPacket   func() // first RTP packet received
	Logger          *slog.Logger
	// JitterBuffer orders received audio; nil = an AdaptiveJitterBuffer.
	JitterBuffer JitterBuffer
	// Latch is symmetric RTP for far ends behind NAT: besides Remote, the
	// first address that sends audio of PayloadType is accepted, once per
	// stream (never re-latched), unless Remote's own audio came first.
	// Sending still goes to Remote.
	Latch bool
	// OnDeviceError reports a Source.Read ("microphone") or Sink.Write
	// ("speaker") failure mid-call, once per stream and device kind; the
	// stream goes on with silence or discard, as it logs.
	OnDeviceError func(which string, err error)
	// RTCP (rtcp.go): RTCPConn is the local RTCP socket (RTP port + 1; the
	// stream owns and closes it); RTCPMux sends and takes RTCP on Conn
	// instead (RFC 5761); RTCPPort is the far end's RTCP port (0 = its RTP
	// port + 1); RTCPInterval is the nominal report interval (0 = 5 s).
	// Without RTCPConn or RTCPMux no RTCP is sent.
	RTCPConn     *net.UDPConn
	RTCPMux      bool
	RTCPPort     int
	RTCPInterval time.Duration
	// SRTP, when set, protects every RTP and RTCP packet sent and checks
	// every one received (stream_srtp.go); nil = RTP in clear.
	SRTP *SRTP
}

// Stream sends and receives one call's audio over RTP with three
// goroutines: sender (Source → codec → socket), receiver (socket → jitter
// buffer / DTMF) and playout (jitter buffer → codec → Sink). None of them
// allocates per frame.
//
// The far end's address is the one signalled in SDP (or, with Latch, the
// one latched once): packets from any other address are counted
// (Stats.ForeignSource) and dropped, audio and telephone-events alike.
// SetDirection applies the SDP direction: recvonly and inactive send
// nothing, sendonly and inactive play nothing (device_error_test.go).
type Stream struct {
	cfg          StreamConfig
	codec        Codec
	log          *slog.Logger
	ptime        time.Duration
	frameSamples int    // PCM samples per frame at the codec's SampleRate
	tsPerFrame   uint32 // RTP clock units per frame

	remote atomic.Pointer[netip.AddrPort]
	muted  atomic.Bool
	noSend atomic.Bool                  // direction: recvonly or inactive
	noRecv atomic.Bool                  // direction: sendonly or inactive
	hold   atomic.Pointer[sourceHolder] // music on hold replaces the source's audio
	alert  atomic.Bool                  // call waiting: beep into what the agent hears
	src    atomic.Pointer[sourceHolder] // the microphone; nil = silence paced by a ticker
	sink   atomic.Pointer[sinkHolder]   // the speaker; nil = discard, paced by a ticker
	dtmf   *dtmfSender                  // nil when telephone-event was not negotiated

	jbMu  sync.Mutex // between the receiver (Push) and the playout loop (Pop) only
	jbPub jitterPub  // the buffer's figures for everyone else
	jb    JitterBuffer

	concealed atomic.Uint64 // frames the playout loop concealed (plc_stream.go)

	stats  streamCounters
	ssrc   uint32        // ours, random (RFC 3550)
	rtcp   rtcpState     // reports and quality (rtcp.go)
	sec    *streamSRTP   // nil without cfg.SRTP (stream_srtp.go)
	levels [2]LevelMeter // microphone and speaker, for onAudioVolume (level.go)
	lat    streamLatency // pipeline delay (latency.go)
	warned [warnKinds]atomic.Bool

	mu      sync.Mutex // guards started and closed
	started bool
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
}

// NewStream checks cfg and prepares a stream; Start begins sending.
func NewStream(cfg StreamConfig) (*Stream, error) {
	switch {
	case cfg.Conn == nil:
		return nil, errors.New("media: StreamConfig.Conn is nil: open the local RTP socket first")
	case cfg.Remote == nil:
		return nil, errors.New("media: StreamConfig.Remote is nil: give the far end's RTP address from its SDP")
	case cfg.Codec == nil:
		return nil, errors.New("media: StreamConfig.Codec is nil: give the negotiated codec")
	case cfg.PayloadType > 127 || cfg.DTMFPayloadType > 127:
		return nil, fmt.Errorf("media: payload types must be 0-127 (got audio %d, telephone-event %d)", cfg.PayloadType, cfg.DTMFPayloadType)
	case cfg.DTMFPayloadType != 0 && cfg.DTMFPayloadType == cfg.PayloadType:
		return nil, fmt.Errorf("media: audio and telephone-event share payload type %d; they must differ", cfg.PayloadType)
	}
	ptime := cfg.Ptime
	if ptime == 0 {
		ptime = 20 * time.Millisecond
	}
	ms := int(ptime / time.Millisecond)
	if ptime%time.Millisecond != 0 || ms < 10 || ms > 120 || cfg.Codec.SampleRate()*ms%1000 != 0 || cfg.Codec.ClockRate()*ms%1000 != 0 {
		return nil, fmt.Errorf("media: ptime %v is not usable: give whole milliseconds between 10 and 120 (20 is usual)", cfg.Ptime)
	}
	s := &Stream{
		cfg:          cfg,
		codec:        cfg.Codec,
		log:          cfg.Logger,
		ptime:        ptime,
		frameSamples: cfg.Codec.SampleRate() * ms / 1000,
		tsPerFrame:   uint32(cfg.Codec.ClockRate() * ms / 1000),
		jb:           cfg.JitterBuffer,
		done:         make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ssrc = rand.Uint32()
	s.initRTCP()
	s.initSRTP()
	if s.jb == nil {
		s.jb = NewAdaptiveJitterBuffer(cfg.Codec.ClockRate(), ptime, defaultAdaptiveSlots, defaultJitterMaxBytes)
	}
	if cfg.DTMFPayloadType != 0 {
		s.dtmf = newDTMFSender(ptime, s.tsPerFrame)
	}
	s.SetRemote(cfg.Remote)
	s.SetDevices(cfg.Source, cfg.Sink)
	s.publishJitterLocked() // its figures before the first frame (no goroutine runs yet)
	return s, nil
}

// Start begins sending, receiving and playing. Calling it again, or after
// Close, does nothing.
func (s *Stream) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	trackStream(s)
	s.wg.Add(3)
	go s.sendLoop()
	go s.receiveLoop()
	go s.playoutLoop()
	s.startRTCP()
}

// Close stops the goroutines and closes the socket. It returns once a
// Source.Read or Sink.Write in progress has returned (one frame on a paced
// device). Later calls do nothing and return nil.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.closeRTCP()             // the BYE goes out first
	err := s.cfg.Conn.Close() // wakes the receiver
	s.wg.Wait()
	untrackStream(s)
	return err
}

func (s *Stream) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Codec is the stream's codec.
func (s *Stream) Codec() Codec { return s.codec }

// SendDTMF queues digits as RFC 4733 events and returns at once. All digits
// are checked first: on an error none is sent.
func (s *Stream) SendDTMF(digits string) error {
	if s.isClosed() {
		return ErrStreamClosed
	}
	if s.dtmf == nil {
		if err := ValidateDigits(digits); err != nil {
			return err
		}
		return ErrNoDTMF
	}
	return s.dtmf.enqueue(digits)
}

// SetMuted replaces the source's audio with encoded silence, so packets
// keep flowing (NAT bindings and the far end's timing stay alive).
func (s *Stream) SetMuted(muted bool) { s.muted.Store(muted) }

// SetDirection applies an SDP direction (sendrecv, sendonly, recvonly,
// inactive) to the stream: what it may send and what it plays.
func (s *Stream) SetDirection(dir string) {
	s.noSend.Store(dir == RecvOnly || dir == Inactive)
	s.noRecv.Store(dir == SendOnly || dir == Inactive)
}

type sourceHolder struct{ src AudioSource }

// SetAlert turns the call-waiting tone on or off: a short beep mixed into
// what the agent hears, so a second call is noticed without a ringer.
func (s *Stream) SetAlert(on bool) { s.alert.Store(on) }

type sinkHolder struct{ sink AudioSink }

// SetDevices swaps the stream's microphone and speaker while it runs (nil:
// silence and discard, paced by the stream's own clock), so a call put on
// hold can hand the sound devices to another. A Read or Write already in
// progress on the old device finishes first; close the old device after.
func (s *Stream) SetDevices(src AudioSource, sink AudioSink) {
	if src == nil {
		s.src.Store(nil)
	} else {
		s.src.Store(&sourceHolder{src})
	}
	if sink == nil {
		s.sink.Store(nil)
	} else {
		s.sink.Store(&sinkHolder{sink})
	}
}

// SetHoldSource replaces the microphone's audio with src's (music on
// hold) while keeping the device's pacing; nil restores the microphone.
// src must not block: it is read once per frame after the device.
func (s *Stream) SetHoldSource(src AudioSource) {
	if src == nil {
		s.hold.Store(nil)
		return
	}
	s.hold.Store(&sourceHolder{src})
}

// SetRemote changes where packets are sent (re-INVITE, UPDATE). nil is
// ignored.
func (s *Stream) SetRemote(addr *net.UDPAddr) {
	if addr == nil {
		return
	}
	ap := addr.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	s.remote.Store(&ap)
}

// Stats returns the counters so far.
func (s *Stream) Stats() Stats { return s.stats.snapshot() }

// firstTime reports whether problem k is new on this stream; use it as
// `if s.firstTime(k) { s.log.Warn(...) }` so a problem is logged once, not
// per packet, and the log arguments are built only then.
func (s *Stream) firstTime(k warnKind) bool { return s.warned[k].CompareAndSwap(false, true) }
