package sipua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"deskphone/phone/signal"

	"github.com/emiago/sipgo/sip"
)

// dialog is one established call leg, whichever side placed it (RFC 3261
// §12). sipgo's dialog caches cannot route re-INVITE, UPDATE, INFO, REFER
// or NOTIFY to an existing call, so the UA keeps its own table of these,
// keyed by Call-ID and both tags, and uses sipgo for transactions only.
type dialog struct {
	u         *UA
	key       string
	callID    string
	local     sip.Uri
	localName string
	localTag  string
	remote    sip.Uri
	remoteTag string
	transport string
	done      chan struct{}
	origin    netip.AddrPort // where the dialog-creating request or 2xx came from

	mu        sync.Mutex
	target    sip.Uri  // the far end's Contact
	routes    []string // route set, in the order requests carry it
	localSeq  uint32
	remoteSeq uint32
	remoteSDP []byte
	localSDP  []byte
	handler   signal.DialogHandler
	ended     bool
	acked     chan struct{} // closed by the ACK of our latest 2xx to an INVITE
	ackSeq    uint32
	refresh   *time.Timer // session timer (RFC 4028)
}

func dialogKey(callID, localTag, remoteTag string) string {
	return callID + "|" + localTag + "|" + remoteTag
}

// keyOfRequest is the dialog key of a request the far end sent us.
func keyOfRequest(req *sip.Request) string {
	var to, from string
	if h := req.To(); h != nil && h.Params != nil {
		to, _ = h.Params.Get("tag")
	}
	if h := req.From(); h != nil && h.Params != nil {
		from, _ = h.Params.Get("tag")
	}
	id := ""
	if c := req.CallID(); c != nil {
		id = c.Value()
	}
	return dialogKey(id, to, from)
}

func (u *UA) addDialog(d *dialog) {
	u.mu.Lock()
	u.dialogs[d.key] = d
	u.mu.Unlock()
}

func (u *UA) findDialog(key string) *dialog {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.dialogs[key]
}

// end marks the dialog over once and tells the handler (cause nil: the far
// end's BYE).
func (d *dialog) end(cause error) {
	d.mu.Lock()
	if d.ended {
		d.mu.Unlock()
		return
	}
	d.ended = true
	h := d.handler
	if d.refresh != nil {
		d.refresh.Stop()
	}
	d.mu.Unlock()
	d.u.mu.Lock()
	delete(d.u.dialogs, d.key)
	d.u.mu.Unlock()
	close(d.done)
	if h != nil {
		h.OnEnd(cause)
	}
}

func (d *dialog) isEnded() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ended
}

func (d *dialog) getHandler() signal.DialogHandler {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.handler
}

// request builds an in-dialog request (RFC 3261 §12.2.1.1). seq 0 takes the
// next local CSeq.
func (d *dialog) request(method sip.RequestMethod, seq uint32, contentType string, body []byte) *sip.Request {
	d.mu.Lock()
	if seq == 0 {
		d.localSeq++
		seq = d.localSeq
	}
	target, routes := d.target, d.routes
	d.mu.Unlock()

	req := sip.NewRequest(method, target)
	from := &sip.FromHeader{DisplayName: d.localName, Address: d.local, Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{Address: d.remote, Params: sip.NewParams()}
	to.Params.Add("tag", d.remoteTag)
	callID := sip.CallIDHeader(d.callID)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	req.AppendHeader(&maxFwd)
	for _, r := range routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(d.u.contactHeader())
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	dest := target.HostPort()
	if rt := req.Route(); rt != nil {
		dest = rt.Address.HostPort()
	}
	req.SetDestination(dest)
	req.SetTransport(d.transport)
	return req
}

// do sends an in-dialog request and waits for its final response. A
// timeout, 408 or 481 means the far end has lost the dialog (RFC 3261
// §12.2.1.2): the dialog ends with ErrDialogGone.
func (d *dialog) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := d.u.cli().TransactionRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if res.StatusCode == 408 || res.StatusCode == 481 {
				go d.end(fmt.Errorf("%w: %s answered %d %s", ErrDialogGone, req.Method, res.StatusCode, res.Reason))
				return res, statusError(res)
			}
			return res, nil
		case <-tx.Done():
			err := tx.Err()
			if errors.Is(err, sip.ErrTransactionTimeout) {
				go d.end(fmt.Errorf("%w: no answer to %s", ErrDialogGone, req.Method))
			}
			return nil, noAnswer(err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// doOK sends a request and wants a 2xx.
func (d *dialog) doOK(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	res, err := d.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return res, statusError(res)
	}
	return res, nil
}

// RemoteSDP is the far end's latest session description.
func (d *dialog) RemoteSDP() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remoteSDP
}

// Reoffer sends a re-INVITE with sdp, ACKs the 2xx and returns the answer.
func (d *dialog) Reoffer(ctx context.Context, sdp []byte) ([]byte, error) {
	// No re-INVITE before the ACK of our 2xx (RFC 3261 §14.1: one INVITE
	// transaction at a time in each direction).
	if ch := d.ackPending(); ch != nil {
		select {
		case <-ch:
		case <-d.done:
			return nil, ErrDialogGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for try := 0; ; try++ {
		answer, res, err := d.reofferOnce(ctx, sdp)
		if res == nil || res.StatusCode != 491 || try == 2 {
			return answer, err
		}
		// Glare: both sides offered at once. Retry after a random 2.1-4 s
		// (RFC 3261 §14.1; we may not know who owns the Call-ID).
		wait := 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
		select {
		case <-time.After(wait):
		case <-d.done:
			return nil, ErrDialogGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (d *dialog) reofferOnce(ctx context.Context, sdp []byte) ([]byte, *sip.Response, error) {
	req := d.request(sip.INVITE, 0, "application/sdp", sdp)
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	res, err := d.doOK(ctx, req)
	if err != nil { // a non-2xx final is ACKed by the transaction layer
		return nil, res, err
	}
	d.mu.Lock()
	if c := res.Contact(); c != nil {
		d.target = c.Address
	}
	d.localSDP = sdp
	if len(res.Body()) > 0 {
		d.remoteSDP = res.Body()
	}
	answer := d.remoteSDP
	d.mu.Unlock()
	d.ack(req.CSeq().SeqNo)
	d.noteSessionTimer(res, true)
	return answer, res, nil
}

// ack sends the ACK for the 2xx to our INVITE with CSeq seq.
func (d *dialog) ack(seq uint32) {
	ack := d.request(sip.ACK, seq, "", nil)
	if err := d.u.cli().WriteRequest(ack); err != nil {
		d.u.log.Warn("sending ACK failed", "call-id", d.callID, "error", err)
	}
}

// Info sends one INFO request.
func (d *dialog) Info(ctx context.Context, contentType string, body []byte) error {
	_, err := d.doOK(ctx, d.request(sip.INFO, 0, contentType, body))
	return err
}

// Refer asks the far end to call target (RFC 3515), replacing another
// dialog when replaces is set (RFC 3891).
func (d *dialog) Refer(ctx context.Context, target, replaces string) error {
	uri, err := d.u.RequestURI(target)
	if err != nil {
		return err
	}
	// The transferee resolves Refer-To itself: a bare number at our domain
	// names the registrar in use with its port, the one proxy we know it
	// reaches.
	if !strings.Contains(target, ":") {
		if h, port, err := net.SplitHostPort(d.u.fo.current().entry); err == nil && h == uri.Host {
			uri.Port, _ = strconv.Atoi(port)
		}
	}
	referTo := uri.String()
	if replaces != "" {
		referTo += "?Replaces=" + url.QueryEscape(replaces)
	}
	req := d.request(sip.REFER, 0, "", nil)
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+referTo+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+d.local.String()+">"))
	_, err = d.doOK(ctx, req)
	return err
}

// Notify reports a REFER's progress as a message/sipfrag (RFC 3515 §2.4.5).
func (d *dialog) Notify(ctx context.Context, code int, reason string, final bool) error {
	req := d.request(sip.NOTIFY, 0, "message/sipfrag;version=2.0", []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)))
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	_, err := d.doOK(ctx, req)
	return err
}

// Ping sends OPTIONS in the dialog. Any answer but 408/481 means the far
// end still knows the call.
func (d *dialog) Ping(ctx context.Context) error {
	_, err := d.do(ctx, d.request(sip.OPTIONS, 0, "", nil))
	return err
}

// Bye ends the dialog.
func (d *dialog) Bye(ctx context.Context) error {
	if d.isEnded() {
		return nil
	}
	defer d.end(signal.ErrLocalBye)
	_, err := d.do(ctx, d.request(sip.BYE, 0, "", nil))
	return err
}

// ReplacesParam is this dialog's id for a Replaces header (RFC 3891 §3):
// call-id;to-tag=…;from-tag=… as the far end sees it.
func (d *dialog) ReplacesParam() string {
	return fmt.Sprintf("%s;to-tag=%s;from-tag=%s", d.callID, d.remoteTag, d.localTag)
}

// Target is the far end's address of record.
func (d *dialog) Target() string { return d.remote.String() }

// Done is closed when the dialog is over.
func (d *dialog) Done() <-chan struct{} { return d.done }

// handleRequest serves a request that belongs to this dialog.
func (d *dialog) handleRequest(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string, body []byte, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, body)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		if err := tx.Respond(res); err != nil {
			d.u.log.Debug("responding in dialog failed", "method", req.Method, "error", err)
		}
	}
	seq := req.CSeq().SeqNo
	d.mu.Lock()
	if seq < d.remoteSeq && !req.IsAck() {
		d.mu.Unlock()
		respond(500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1")) // RFC 3261 §12.2.2
		return
	}
	d.remoteSeq = seq
	d.mu.Unlock()
	h := d.getHandler()

	switch req.Method {
	case sip.INVITE, sip.UPDATE:
		d.handleOffer(req, tx, h)
	case sip.BYE:
		respond(200, "OK", nil)
		d.end(nil)
	case sip.INFO:
		digit, ok := parseInfoDTMF(req)
		if !ok && len(req.Body()) > 0 {
			respond(415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
			return
		}
		// The digit first, then the 200: the sender waits for the 200
		// before its next INFO, whose handler runs on another goroutine,
		// so this keeps the digits in order.
		if ok && h != nil {
			h.OnDTMF(digit)
		}
		respond(200, "OK", nil)
	case sip.REFER:
		d.handleRefer(req, respond, h)
	case sip.NOTIFY:
		respond(200, "OK", nil)
		if code, reason, ok := parseSipfrag(req.Body()); ok && h != nil {
			h.OnNotify(code, reason)
		}
	case sip.OPTIONS:
		respond(200, "OK", nil, sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp"))
	default:
		respond(405, "Method Not Allowed", nil, sip.NewHeader("Allow", allowed))
	}
}

// handleOffer answers a re-INVITE or UPDATE: hold, resume, refresh.
func (d *dialog) handleOffer(req *sip.Request, tx sip.ServerTransaction, h signal.DialogHandler) {
	respond := func(res *sip.Response) {
		if err := tx.Respond(res); err != nil {
			d.u.log.Debug("responding to an offer failed", "error", err)
		}
	}
	var answer []byte
	code := 200
	if h != nil {
		answer, code = h.OnOffer(signal.Offer{SDP: req.Body(), Method: req.Method.String()})
	}
	if code >= 300 || answer == nil {
		if code < 300 {
			code = 488
		}
		respond(sip.NewResponseFromRequest(req, code, reasonFor(code), nil))
		return
	}
	d.mu.Lock()
	if c := req.Contact(); c != nil {
		d.target = c.Address
	}
	if len(req.Body()) > 0 {
		d.remoteSDP = req.Body()
	}
	d.localSDP = answer
	d.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", answer)
	res.AppendHeader(d.u.contactHeader())
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	d.addSessionTimer(req, res)
	if req.Method == sip.UPDATE {
		respond(res)
		d.noteSessionTimer(res, false)
		return
	}
	d.sendAnswer(req, tx, res)
	d.noteSessionTimer(res, false)
}

func (d *dialog) handleRefer(req *sip.Request, respond func(int, string, []byte, ...sip.Header), h signal.DialogHandler) {
	hdr := req.GetHeader("Refer-To")
	if hdr == nil {
		respond(400, "Bad Request (no Refer-To)", nil)
		return
	}
	target, replaces := parseReferTo(hdr.Value())
	if target == "" {
		respond(400, "Bad Request (malformed Refer-To)", nil)
		return
	}
	if h == nil || !h.OnRefer(target, replaces) {
		respond(603, "Decline", nil)
		return
	}
	respond(202, "Accepted", nil)
}

// sendAnswer sends a 2xx to an INVITE and retransmits it until the ACK
// comes (RFC 3261 §13.3.1.4). Without an ACK after 64*T1 the dialog ends
// with ErrNoAck and a BYE.
func (d *dialog) sendAnswer(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	acked := make(chan struct{})
	d.mu.Lock()
	d.acked, d.ackSeq = acked, req.CSeq().SeqNo
	d.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		d.u.log.Warn("sending 200 OK failed", "call-id", d.callID, "error", err)
	}
	go func() {
		interval := sip.T1
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		for {
			retry := time.NewTimer(interval)
			select {
			case <-acked:
				retry.Stop()
				return
			case <-tx.Acks():
				retry.Stop()
				d.gotAck(req.CSeq().SeqNo)
				return
			case <-d.done:
				retry.Stop()
				return
			case <-giveUp.C:
				retry.Stop()
				d.u.log.Warn("no ACK for our 200 OK: ending the call", "call-id", d.callID)
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
				_, _ = d.do(ctx, d.request(sip.BYE, 0, "", nil))
				cancel()
				d.end(ErrNoAck)
				return
			case <-retry.C:
				if !sip.IsReliable(d.transport) {
					_ = tx.Respond(res)
				}
				interval = min(2*interval, sip.T2)
			}
		}
	}()
}

// gotAck marks our 2xx with this CSeq acknowledged.
func (d *dialog) gotAck(seq uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.acked != nil && seq == d.ackSeq {
		close(d.acked)
		d.acked = nil
	}
}

// waitAck reports whether our latest 2xx was ACKed (closed channel) or is
// still waiting.
func (d *dialog) ackPending() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acked
}

// addSessionTimer answers a Session-Expires request (RFC 4028): the
// refresher stays as asked (the far end, when it did not say).
func (d *dialog) addSessionTimer(req *sip.Request, res *sip.Response) {
	se := req.GetHeader("Session-Expires")
	if se == nil {
		return
	}
	secs, refresher := parseSessionExpires(se.Value())
	if secs <= 0 {
		return
	}
	if refresher == "" {
		refresher = "uac"
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", secs, refresher)))
	res.AppendHeader(sip.NewHeader("Require", "timer"))
}

// noteSessionTimer arms the session timer from a 2xx's Session-Expires.
// weSentOffer: the 2xx answers our request (we are the UAC of it).
func (d *dialog) noteSessionTimer(res *sip.Response, weAreUAC bool) {
	se := res.GetHeader("Session-Expires")
	if se == nil {
		return
	}
	secs, refresher := parseSessionExpires(se.Value())
	if secs <= 0 {
		return
	}
	weRefresh := (refresher == "uac") == weAreUAC
	if refresher == "" {
		weRefresh = weAreUAC
	}
	interval := time.Duration(secs) * time.Second
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		return
	}
	if d.refresh != nil {
		d.refresh.Stop()
	}
	if weRefresh {
		d.refresh = time.AfterFunc(interval/2, func() {
			d.mu.Lock()
			sdp := d.localSDP
			d.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := d.Reoffer(ctx, sdp); err != nil {
				d.u.log.Warn("session refresh failed: ending the call", "call-id", d.callID, "error", err)
				_ = d.Bye(ctx)
				d.end(fmt.Errorf("%w: session refresh failed: %v", ErrDialogGone, err)) //nolint:errorlint // the end is ErrDialogGone; the refresh's own SIP status must not become the call's
			}
		})
		return
	}
	// RFC 4028 §10: the far end refreshes; without one by the deadline
	// (interval minus a third, at most 32 s) the session is over.
	grace := min(interval/3, 32*time.Second)
	d.refresh = time.AfterFunc(interval-grace, func() {
		d.u.log.Warn("the far end did not refresh the session in time: ending the call", "call-id", d.callID)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		_, _ = d.do(ctx, d.request(sip.BYE, 0, "", nil))
		d.end(fmt.Errorf("%w: no session refresh within %v", ErrDialogGone, interval))
	})
}

func parseSessionExpires(v string) (int, string) {
	parts := strings.Split(v, ";")
	secs, _ := strconv.Atoi(strings.TrimSpace(parts[0]))
	var refresher string
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return secs, refresher
}

// parseInfoDTMF reads a digit from application/dtmf-relay ("Signal=5") or
// application/dtmf ("5") INFO bodies.
func parseInfoDTMF(req *sip.Request) (rune, bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	body := strings.TrimSpace(string(req.Body()))
	var sig string
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		sig = body
	default:
		return 0, false
	}
	switch sig {
	case "10":
		sig = "*"
	case "11":
		sig = "#"
	}
	if len(sig) != 1 || !strings.ContainsRune("0123456789*#ABCDabcd", rune(sig[0])) {
		return 0, false
	}
	return rune(strings.ToUpper(sig)[0]), true
}

// parseSipfrag reads the status line of a message/sipfrag body.
func parseSipfrag(body []byte) (int, string, bool) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, "", false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, "", false
	}
	reason := ""
	if len(f) == 3 {
		reason = f[2]
	}
	return code, reason, true
}

// parseReferTo splits a Refer-To value into the target URI (without its
// header part) and an embedded Replaces.
func parseReferTo(v string) (target, replaces string) {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "<"); i >= 0 {
		if j := strings.Index(v[i:], ">"); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	target, hdrs, _ := strings.Cut(v, "?")
	for _, kv := range strings.Split(hdrs, "&") {
		k, val, ok := strings.Cut(kv, "=")
		if ok && strings.EqualFold(k, "Replaces") {
			if r, err := url.QueryUnescape(val); err == nil {
				replaces = r
			}
		}
	}
	if !strings.HasPrefix(target, "sip:") && !strings.HasPrefix(target, "sips:") {
		return "", ""
	}
	return target, replaces
}

func reasonFor(code int) string {
	switch code {
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 486:
		return "Busy Here"
	}
	return "Error"
}

// allowed is what the phone accepts.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY"
