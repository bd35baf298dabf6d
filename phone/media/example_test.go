package media_test

import (
	"fmt"
	"log"
	"net"

	"deskphone/phone/media"
)

// Answering an incoming call's offer with the phone's codec preference.
func ExampleAnswer() {
	offer := []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/AVP 96 0 8 101\r\na=rtpmap:96 opus/48000/2\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")
	desc, err := media.ParseDescription(offer)
	if err != nil {
		log.Fatal(err)
	}
	local := []media.Codec{media.NewPCMA(), media.NewPCMU()}
	_, neg, err := media.Answer(desc, local, "192.0.2.20", 4000, 101, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(neg.Codec.Name(), neg.PayloadType, neg.DTMFPayloadType, neg.Remote, neg.Direction)
	// Output: PCMA 8 101 192.0.2.10:10000 sendrecv
}

// Running a call's media once offer/answer is done.
func ExampleNewStream() {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	neg := media.Negotiated{Codec: media.NewPCMU(), PayloadType: 0, DTMFPayloadType: 101,
		Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
	s, err := media.NewStream(media.StreamConfig{
		Conn: conn, Remote: neg.Remote, Codec: neg.Codec,
		PayloadType: neg.PayloadType, DTMFPayloadType: neg.DTMFPayloadType,
		// Source and Sink nil: silence out, received audio discarded.
		OnDTMF: func(d rune) { fmt.Printf("far end pressed %c\n", d) },
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Start()
	if err := s.SendDTMF("123#"); err != nil {
		log.Fatal(err)
	}
	s.Close()
}
