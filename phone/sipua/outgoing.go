package sipua

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"deskphone/phone/signal"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/icholy/digest"
)

// udpMTULimit: RFC 3261 §18.1.1 — a request within 200 bytes of a 1500-byte
// MTU goes over TCP instead of UDP.
const udpMTULimit = 1300

// udpGrowth is how much a request may grow after transportFor chose UDP.
const udpGrowth = 450

// outgoing is one INVITE we sent, until it is answered or fails.
type outgoing struct {
	u   *UA
	req *sip.Request
	r   signal.DialRequest
	ev  signal.DialEvents

	cancelOnce sync.Once
	cancel     chan struct{}
}

// Dial sends an INVITE and returns at once; ev hears how it ends.
func (u *UA) Dial(r signal.DialRequest, ev signal.DialEvents) (signal.Outgoing, error) {
	uri, err := u.RequestURI(r.To)
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.AppendHeader(u.fromHeader())
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port}, Params: sip.NewParams()})
	callID := sip.CallIDHeader(newCallID())
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(u.contactHeader())
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	req.AppendHeader(sip.NewHeader("Supported", "replaces, timer"))
	if r.Replaces != "" {
		req.AppendHeader(sip.NewHeader("Replaces", r.Replaces))
	}
	for _, h := range r.Headers {
		if strings.ContainsAny(h.Name+h.Value, "\r\n") {
			return nil, fmt.Errorf("%w: header %s has a line break", ErrBadURI, h.Name)
		}
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(r.SDP)
	req.SetDestination(u.proxy())
	req.SetTransport(u.transportFor(req))

	o := &outgoing{u: u, req: req, r: r, ev: ev, cancel: make(chan struct{})}
	go o.run()
	return o, nil
}

// transportFor picks TCP for a request too large for a UDP datagram. The
// margin covers what is added after this check: sipgo's Via, and on a
// digest challenge the Authorization header (about 300 bytes), since the
// retry goes the same way as the first request.
func (u *UA) transportFor(req *sip.Request) string {
	t := u.transport()
	if t == "UDP" && len(req.String())+udpGrowth > udpMTULimit {
		u.log.Info("request too large for UDP: sending it over TCP (RFC 3261 §18.1.1)", "method", req.Method, "bytes", len(req.String()))
		return "TCP"
	}
	return t
}

// Cancel gives up on the call; see signal.Outgoing.
func (o *outgoing) Cancel() { o.cancelOnce.Do(func() { close(o.cancel) }) }

func (o *outgoing) run() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tx, err := o.u.cli().TransactionRequest(ctx, o.req)
	if err != nil {
		o.ev.OnFail(noAnswer(err))
		return
	}
	var timeout <-chan time.Time
	if o.r.Timeout > 0 {
		t := time.NewTimer(o.r.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	r := &inviteRun{o: o, ctx: ctx, tx: tx}
	cancelCh := o.cancel
	for {
		select {
		case <-cancelCh:
			cancelCh = nil
			r.giveUp(ErrCanceled)
		case <-timeout:
			timeout = nil
			r.giveUp(ErrTimeout)
		case <-r.tx.Done():
			if r.canceled != nil {
				o.ev.OnFail(r.canceled)
				return
			}
			o.ev.OnFail(noAnswer(r.tx.Err()))
			return
		case res := <-r.tx.Responses():
			if r.response(res) {
				return
			}
		}
	}
}

// inviteRun is the state of one outgoing INVITE, across its digest retries.
type inviteRun struct {
	o           *outgoing
	ctx         context.Context
	tx          sip.ClientTransaction // the current INVITE's (a new one after a challenge)
	canceled    error                 // why we gave up, once we have
	provisional bool                  // CANCEL may be sent only after a provisional response (§9.1)
	cancelSent  bool
	auths       int
}

// sendCancel sends CANCEL once, as soon as it is allowed.
func (r *inviteRun) sendCancel() {
	if r.cancelSent || !r.provisional {
		return
	}
	r.cancelSent = true
	go r.o.sendCancel()
}

// giveUp records the first reason to give up and cancels the INVITE.
func (r *inviteRun) giveUp(why error) {
	if r.canceled == nil {
		r.canceled = why
	}
	r.sendCancel()
}

// response handles one response to the INVITE; true when the attempt is
// over (the events are told).
func (r *inviteRun) response(res *sip.Response) bool {
	o, u := r.o, r.o.u
	switch {
	case res.IsProvisional():
		if res.StatusCode > 100 {
			r.provisional = true
		}
		if r.canceled != nil {
			r.sendCancel()
			return false
		}
		if res.StatusCode > 100 {
			o.ev.OnProgress(int(res.StatusCode), res.Reason)
		}
		return false
	case res.IsSuccess():
		d := o.established(r.tx, res)
		if r.canceled != nil {
			// A 200 crossed our CANCEL: confirm and hang up, so the
			// far end does not stay answered.
			u.log.Info("a 200 OK crossed our CANCEL: sending ACK and BYE", "call-id", d.callID)
			go func() {
				bctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
				defer cancel()
				_ = d.Bye(bctx)
			}()
			o.ev.OnFail(r.canceled)
			return true
		}
		o.ev.OnAnswer(d)
		return true
	case (res.StatusCode == 401 || res.StatusCode == 407) && r.auths < 2 && r.canceled == nil && u.password() != "":
		r.auths++
		r.tx.Terminate()
		tx, err := o.authenticate(r.ctx, res)
		if err != nil {
			o.ev.OnFail(err)
			return true
		}
		r.tx = tx
		return false
	default:
		if r.canceled != nil {
			o.ev.OnFail(r.canceled)
			return true
		}
		o.ev.OnFail(statusError(res))
		return true
	}
}

// authenticate answers a digest challenge with a new INVITE (CSeq+1).
func (o *outgoing) authenticate(ctx context.Context, res *sip.Response) (sip.ClientTransaction, error) {
	req := o.req
	hdr, out := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		hdr, out = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(hdr)
	if h == nil {
		return nil, statusError(res)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return nil, fmt.Errorf("cannot read the %d challenge: %w", res.StatusCode, err)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "INVITE", URI: req.Recipient.Addr(),
		Username: o.u.cfg.AuthUser, Password: o.u.password(),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot answer the %d challenge: %w", res.StatusCode, err)
	}
	req.RemoveHeader(out)
	req.AppendHeader(sip.NewHeader(out, cred.String()))
	req.CSeq().SeqNo++
	req.RemoveHeader("Via")
	return o.u.cli().TransactionRequest(ctx, req)
}

// sendCancel sends CANCEL for the INVITE (RFC 3261 §9.1): same Request-URI,
// Call-ID, From, To, CSeq number and top Via.
func (o *outgoing) sendCancel() {
	inv := o.req
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	if via := inv.Via(); via != nil {
		c.AppendHeader(via.Clone())
	}
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	maxFwd := sip.MaxForwardsHeader(70)
	c.AppendHeader(&maxFwd)
	for _, r := range inv.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(r))
	}
	c.SetBody(nil)
	c.SetDestination(inv.Destination())
	c.SetTransport(inv.Transport())
	// CANCEL is hop-by-hop and answered at once; Timer F bounds it anyway.
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	if _, err := o.u.cli().Do(ctx, c, sipgo.ClientRequestBuild); err != nil {
		o.u.log.Warn("CANCEL failed", "call-id", inv.CallID().Value(), "error", err)
	}
}

// established builds the dialog from our INVITE and its 2xx, ACKs it and
// keeps ACKing the 2xx's retransmissions.
func (o *outgoing) established(tx sip.ClientTransaction, res *sip.Response) *dialog {
	u, req := o.u, o.req
	remoteTag, _ := res.To().Params.Get("tag")
	localTag, _ := req.From().Params.Get("tag")
	d := &dialog{
		u: u, callID: req.CallID().Value(),
		local: req.From().Address, localName: req.From().DisplayName, localTag: localTag,
		remote: res.To().Address, remoteTag: remoteTag,
		transport: req.Transport(), done: make(chan struct{}),
		target: req.Recipient, localSeq: req.CSeq().SeqNo,
		remoteSDP: res.Body(), localSDP: req.Body(), handler: o.r.Handler,
	}
	d.key = dialogKey(d.callID, localTag, remoteTag)
	d.origin, _ = parseSource(res.Source())
	if c := res.Contact(); c != nil {
		d.target = c.Address
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- { // the UAC reverses the Record-Route (§12.1.2)
		d.routes = append(d.routes, rr[i].Value())
	}
	u.addDialog(d)
	seq := req.CSeq().SeqNo
	d.ack(seq)
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			d.ack(seq)
		}
	})
	d.noteSessionTimer(res, true)
	return d
}

func newCallID() string { return uuid.NewString() }
