package impair_test

import (
	"fmt"
	"net/netip"
	"time"

	"deskphone/tools/impair"
)

// A relay on 127.0.0.77 between a phone (RTP ports 16384-16584 on
// 127.0.0.1) and a far end on the same host: the phone advertises
// 127.0.0.77 with its own port and sends to r.Via(the far end's address).
func Example() {
	r, err := impair.Start(impair.Config{
		Addr:   netip.MustParseAddr("127.0.0.77"),
		Target: netip.MustParseAddr("127.0.0.1"),
		Ports:  []impair.PortRange{{Lo: 16384, Hi: 16584}},
		SideA:  impair.PortRange{Lo: 16384, Hi: 16584},
		Seed:   10,
		Settings: impair.Settings{
			Loss: 0.05, Jitter: 30 * time.Millisecond, Reorder: 0.02, Duplicate: 0.01,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = r.Close() }()
	fmt.Println("send to", r.Via(netip.MustParseAddrPort("127.0.0.1:30000")))
	_ = r.Set(impair.Settings{}) // calm again, live
	fmt.Printf("%+v\n", r.Stats())
}
