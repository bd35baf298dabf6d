package labkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

const testPIDF = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@127.0.0.1">
<tuple id="t1"><status><basic>open</basic></status></tuple></presence>`

// With Presence, PUBLISH and SUBSCRIBE are challenged (407) and served by
// Kamailio itself; REGISTER keeps working as without it.
func TestKamailioPresenceServer(t *testing.T) {
	Require(t)
	k := startKamailio(t, KamailioOptions{Users: map[string]string{"1001": "pw1"}, Presence: true})
	c := sipClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	pub := request(k, sip.PUBLISH, "1001", "1001")
	pub.AppendHeader(sip.NewHeader("Event", "presence"))
	pub.AppendHeader(sip.NewHeader("Expires", "60"))
	pub.AppendHeader(sip.NewHeader("Content-Type", "application/pidf+xml"))
	pub.SetBody([]byte(testPIDF))
	res, err := c.Do(ctx, pub)
	if err != nil || res.StatusCode != 407 {
		t.Fatalf("PUBLISH without credentials: %v, %v; want 407", res, err)
	}
	res, err = c.DoDigestAuth(ctx, pub, res, sipgo.DigestAuth{Username: "1001", Password: "pw1"})
	if err != nil || res.StatusCode != 200 || res.GetHeader("SIP-ETag") == nil {
		t.Fatalf("PUBLISH with credentials: %v, %v; want 200 with SIP-ETag", res, err)
	}

	unknown := request(k, sip.PUBLISH, "1001", "9999")
	unknown.AppendHeader(sip.NewHeader("Event", "presence"))
	if res, err := c.Do(ctx, unknown); err != nil || res.StatusCode != 404 {
		t.Fatalf("PUBLISH for a stranger: %v, %v; want 404", res, err)
	}

	reg := request(k, sip.REGISTER, "1001", "1001")
	res, err = c.Do(ctx, reg)
	if err == nil && res.StatusCode == 401 {
		res, err = c.DoDigestAuth(ctx, reg, res, sipgo.DigestAuth{Username: "1001", Password: "pw1"})
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER on a presence server: %v, %v", res, err)
	}
	if strings.Contains(k.Log(), "ERROR") {
		t.Errorf("kamailio logged errors:\n%s", k.Log())
	}
}
