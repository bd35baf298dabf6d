package sipua

import (
	"strings"
	"sync"

	"deskphone/phone/signal"

	"github.com/emiago/sipgo/sip"
)

// incoming is an inbound INVITE waiting for the phone's decision. Every
// method returns at once; the INVITE's server transaction lives until a
// final response is sent or the caller cancels.
type incoming struct {
	u     *UA
	req   *sip.Request // the INVITE with our To tag added
	tx    sip.ServerTransaction
	toTag string

	once     sync.Once
	finished chan struct{} // a final response was sent
	canceled chan struct{}
	cancelMu sync.Once
}

func (in *incoming) Caller() signal.Party {
	return party(in.req.From().Address, in.req.From().DisplayName)
}
func (in *incoming) Callee() signal.Party { return party(in.req.To().Address, in.req.To().DisplayName) }

func party(a sip.Uri, name string) signal.Party {
	return signal.Party{User: a.User, Name: name, URI: a.String()}
}

// Header is the value of a request header, "" when absent.
func (in *incoming) Header(name string) string {
	if h := in.req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func (in *incoming) SDP() []byte               { return in.req.Body() }
func (in *incoming) Replaces() string          { return in.Header("Replaces") }
func (in *incoming) Canceled() <-chan struct{} { return in.canceled }

func (in *incoming) markCanceled() { in.cancelMu.Do(func() { close(in.canceled) }) }

func (in *incoming) respond(code int, reason string, body []byte, hdrs ...sip.Header) error {
	res := sip.NewResponseFromRequest(in.req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return in.tx.Respond(res)
}

// Ring sends 180 Ringing.
func (in *incoming) Ring() {
	go func() {
		if err := in.respond(180, "Ringing", nil, in.u.contactHeader()); err != nil {
			in.u.log.Debug("180 Ringing failed", "error", err)
		}
	}()
}

// Reject sends a final error response.
func (in *incoming) Reject(code int, reason string) {
	in.once.Do(func() {
		go func() {
			defer close(in.finished)
			if err := in.respond(code, reason, nil); err != nil {
				in.u.log.Debug("rejecting a call failed", "code", code, "error", err)
			}
		}()
	})
}

// Answer sends 200 OK with our SDP; see signal.Incoming.
func (in *incoming) Answer(sdp []byte, h signal.DialogHandler) (signal.Dialog, error) {
	var d *dialog
	in.once.Do(func() {
		req := in.req
		fromTag, _ := req.From().Params.Get("tag")
		d = &dialog{
			u: in.u, callID: req.CallID().Value(),
			local: req.To().Address, localName: in.u.cfg.DisplayName, localTag: in.toTag,
			remote: req.From().Address, remoteTag: fromTag,
			transport: req.Transport(), done: make(chan struct{}),
			remoteSeq: req.CSeq().SeqNo, localSeq: 1,
			remoteSDP: req.Body(), localSDP: sdp, handler: h,
		}
		d.origin, _ = parseSource(req.Source())
		d.key = dialogKey(d.callID, in.toTag, fromTag)
		if c := req.Contact(); c != nil {
			d.target = c.Address
		} else {
			d.target = req.From().Address
		}
		for _, rr := range req.GetHeaders("Record-Route") { // the UAS keeps their order (§12.1.1)
			d.routes = append(d.routes, rr.Value())
		}
		in.u.addDialog(d)
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp)
		res.AppendHeader(in.u.contactHeader())
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		res.AppendHeader(sip.NewHeader("Supported", "replaces, timer"))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		d.addSessionTimer(req, res)
		go func() {
			d.sendAnswer(req, in.tx, res)
			d.noteSessionTimer(res, false)
			close(in.finished)
		}()
	})
	if d == nil {
		return nil, errAlreadyDecided
	}
	return d, nil
}

var errAlreadyDecided = &StatusError{Code: 500, Reason: "the call was already answered or rejected"}

// handleInvite serves an INVITE: in-dialog ones go to their dialog, new
// ones become an incoming call.
func (u *UA) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		u.handleInDialog(req, tx)
		return
	}
	if !u.admitOutOfDialog(req, tx) {
		return
	}
	if req.Contact() == nil || req.CSeq() == nil || req.From() == nil {
		u.log.Warn("rejecting an INVITE without Contact, CSeq or From", "from", req.Source())
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request (missing Contact, CSeq or From)", nil))
		return
	}
	if ct := req.ContentType(); len(req.Body()) > 0 && ct != nil && !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 415, "Unsupported Media Type", nil))
		return
	}
	r := req.Clone()
	toTag := sip.GenerateTagN(16)
	r.To().Params.Add("tag", toTag)
	in := &incoming{u: u, req: r, tx: tx, toTag: toTag, finished: make(chan struct{}), canceled: make(chan struct{})}
	tx.OnCancel(func(*sip.Request) { in.markCanceled() })
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusTrying, "Trying", nil))
	u.mu.Lock()
	h := u.onInvite
	u.mu.Unlock()
	if h == nil {
		in.Reject(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
	} else {
		h(in)
	}
	// sipgo ends the server transaction when this handler returns: hold it
	// until a final response is out, the caller cancels or it dies.
	select {
	case <-in.finished:
	case <-in.canceled:
	case <-tx.Done():
		in.markCanceled()
	}
}

// handleInDialog routes a request to its dialog, or answers 481.
func (u *UA) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	d := u.findDialog(keyOfRequest(req))
	if d == nil {
		if req.IsAck() || !u.admitOutOfDialog(req, tx) {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	// Only the dialog's own far end (or a trusted peer) may act on it: a
	// third party that learnt the Call-ID and tags must not end the call.
	if !d.fromPeer(req.Source()) && !u.guard.trustedSource(req.Source()) {
		u.guard.refuse(req, "in-dialog request from outside the dialog's route")
		if !req.IsAck() {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		}
		return
	}
	if req.IsAck() {
		d.gotAck(req.CSeq().SeqNo)
		return
	}
	d.handleRequest(req, tx)
}
