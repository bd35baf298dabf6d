package labkit

import (
	"fmt"
	"regexp"
	"strconv"
)

// Event types baresip 1.0.0 sends over ctrl_tcp, as seen in the lab (for
// WaitEvent). It has no hold or resume event: a re-INVITE shows only as
// CALL_REMOTE_SDP — Param "offer" at the party that receives it, "answer"
// at the one that sent it — and its own hold only in ListCalls' "(on
// hold)". A transfer (REFER), seen with B calling C and B transferring C
// to A:
//
//	C (transferee): TRANSFER (Param: the Refer-To URI), then it dials A
//	                itself: CALL_LOCAL_SDP, CALL_RINGING, CALL_ESTABLISHED;
//	                then CALL_CLOSED "Connection reset by peer" for B's BYE
//	B (transferor): CALL_CLOSED "Call transfered" once C's NOTIFY reports
//	                200 (B sends the BYE)
//	A (target):     an ordinary incoming call from C
//
// If the target cannot be reached the transferee's new call closes (Param
// "404 Not Found"), the transferor gets TRANSFER_FAILED (Param "404 Not
// Found") and hangs up anyway — a BYE but no CALL_CLOSED of its own — so
// the transferee then gets CALL_CLOSED for the first call too.
//
// Received REFER (from any UA): 202 Accepted, TRANSFER, a new call to the
// Refer-To URI through its account (authenticating to the proxy), and
// in-dialog NOTIFYs with message/sipfrag "SIP/2.0 100 Trying" then the
// final status (Subscription-State terminated). It neither holds nor ends
// the first call: the transferor must send BYE.
const (
	EventCallIncoming    = "CALL_INCOMING"    // answer mode manual only; auto answer skips it
	EventCallRinging     = "CALL_RINGING"     // outgoing call: 180 received
	EventCallProgress    = "CALL_PROGRESS"    // outgoing call: 183 with SDP
	EventCallEstablished = "CALL_ESTABLISHED" // either side
	EventCallClosed      = "CALL_CLOSED"      // Param: the reason ("Connection reset by peer" = BYE received)
	EventCallLocalSDP    = "CALL_LOCAL_SDP"   // Param: "offer" or "answer"
	EventCallRemoteSDP   = "CALL_REMOTE_SDP"  // Param: "offer" or "answer"; a hold/resume re-INVITE too
	EventCallRTPEstab    = "CALL_RTPESTAB"    // first RTP packet received
	EventCallDTMFStart   = "CALL_DTMF_START"  // Param: the digit (RFC 4733 or SIP INFO)
	EventCallDTMFEnd     = "CALL_DTMF_END"
	EventTransfer        = "TRANSFER"        // REFER accepted; Param: the Refer-To URI
	EventTransferFailed  = "TRANSFER_FAILED" // Param: the NOTIFY's sipfrag status
)

// Hold puts the current call on hold: a re-INVITE with a=sendonly.
func (b *Baresip) Hold() error {
	_, err := b.Command("hold", "")
	return err
}

// Resume takes the current call off hold: a re-INVITE with a=sendrecv.
func (b *Baresip) Resume() error {
	_, err := b.Command("resume", "")
	return err
}

// Transfer sends a REFER to the peer of the current call asking it to call
// uri (a blind transfer). Baresip 1.0.0 ends its own call only when the
// peer's NOTIFY reports success (see EventTransfer).
func (b *Baresip) Transfer(uri string) error {
	_, err := b.Command("transfer", uri)
	return err
}

var activeCalls = regexp.MustCompile(`--- Active calls \((\d+)\) ---`)

// ListCalls returns how many calls baresip has, in any state (ringing,
// established, on hold), read from its listcalls command.
func (b *Baresip) ListCalls() (int, error) {
	out, err := b.Command("listcalls", "")
	if err != nil {
		return 0, err
	}
	m := activeCalls.FindStringSubmatch(ansiEscape.ReplaceAllString(out, ""))
	if m == nil {
		return 0, fmt.Errorf("baresip listcalls: unexpected output %q", out)
	}
	return strconv.Atoi(m[1])
}
