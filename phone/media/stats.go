package media

import "sync/atomic"

// Stats counts one stream's traffic. Byte counts are RTP payload octets, as
// RTCP reports them.
type Stats struct {
	PacketsSent     uint64 // RTP packets sent, audio and telephone-event
	BytesSent       uint64
	PacketsReceived uint64 // valid RTP packets received, any payload type
	BytesReceived   uint64
	PacketsLost     int64  // by sequence number (RFC 3550 A.3): expected - received
	DTMFSent        uint64 // digits sent
	DTMFReceived    uint64 // digits reported to OnDTMF
	Garbage         uint64 // datagrams that were not RTP
	UnknownPayload  uint64 // RTP packets of a payload type not negotiated
	ForeignSource   uint64 // datagrams from an address that is not the far end's, dropped
	SendErrors      uint64 // datagrams the socket refused
	SRTPAuthFail    uint64 // SRTP/SRTCP datagrams failing authentication or replayed, dropped
}

type streamCounters struct {
	packetsSent, bytesSent         atomic.Uint64
	packetsReceived, bytesReceived atomic.Uint64
	packetsLost                    atomic.Int64
	dtmfSent, dtmfReceived         atomic.Uint64
	garbage, unknownPayload        atomic.Uint64
	foreignSource, sendErrors      atomic.Uint64
	srtpAuthFail                   atomic.Uint64
}

func (c *streamCounters) snapshot() Stats {
	return Stats{
		PacketsSent: c.packetsSent.Load(), BytesSent: c.bytesSent.Load(),
		PacketsReceived: c.packetsReceived.Load(), BytesReceived: c.bytesReceived.Load(),
		PacketsLost: c.packetsLost.Load(),
		DTMFSent:    c.dtmfSent.Load(), DTMFReceived: c.dtmfReceived.Load(),
		Garbage: c.garbage.Load(), UnknownPayload: c.unknownPayload.Load(),
		ForeignSource: c.foreignSource.Load(), SendErrors: c.sendErrors.Load(),
		SRTPAuthFail: c.srtpAuthFail.Load(),
	}
}

// warnKind names a problem logged once per stream, not once per packet.
type warnKind int

const (
	warnGarbage warnKind = iota
	warnUnknownPT
	warnForeign
	warnBadDTMF
	warnDecode
	warnSend
	warnRecv
	warnSource
	warnSink
	warnSRTP
	warnKinds
)
