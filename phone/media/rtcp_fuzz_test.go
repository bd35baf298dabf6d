package media

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// FuzzRTCP feeds what the far end (or anyone reaching the RTCP port) may
// send to the RTCP reader: it never crashes, and what does not parse is
// counted, not used.
func FuzzRTCP(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, PacketCount: 5, Reports: []rtcp.ReceptionReport{{SSRC: 2, FractionLost: 10, LastSenderReport: 7, Delay: 9}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}},
		&rtcp.Goodbye{Sources: []uint32{1}, Reason: "bye"},
	})
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 3, Reports: []rtcp.ReceptionReport{{SSRC: 4, TotalLost: 0xffffff}}}})
	f.Add(sr)
	f.Add(rr)
	f.Add(sr[:len(sr)-3])
	f.Add([]byte{0x81, 200, 0, 0})
	f.Add([]byte{0x80, 201, 0xff, 0xff, 0, 0, 0, 1})
	conn, peer := udpConn(f), udpConn(f)
	defer peer.Close()
	s, err := NewStream(StreamConfig{Conn: conn, Remote: peer.LocalAddr().(*net.UDPAddr), Codec: NewPCMU()})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		before := s.RTCPGarbage()
		s.receiveRTCP(data)
		if _, err := rtcp.Unmarshal(data); err != nil && s.RTCPGarbage() != before+1 {
			t.Fatalf("unparsable RTCP not counted: %x", data)
		}
		_ = s.Quality()
		_, _ = s.buildReport(time.Now(), false)
	})
}
