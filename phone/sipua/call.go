package sipua

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call is an established dialog, whichever side placed it.
type Call struct {
	// RemoteSDP is the far end's session description (its answer or offer).
	RemoteSDP []byte
	bye       func(ctx context.Context) error
	ctx       context.Context // done when the dialog ends
}

// Done is closed when the dialog has ended: our BYE or theirs.
func (c *Call) Done() <-chan struct{} { return c.ctx.Done() }

// Hangup sends BYE and waits for its answer.
func (c *Call) Hangup(ctx context.Context) error { return c.bye(ctx) }

// DialOptions describe an outbound call.
type DialOptions struct {
	To      string       // number or sip: URI
	SDP     []byte       // our offer
	Headers []sip.Header // extra headers, e.g. User-to-User
	// OnProgress is called for each provisional response above 100.
	OnProgress func(code int, reason string)
	// Timeout ends an unanswered call with CANCEL and ErrTimeout.
	Timeout time.Duration
}

// Dial places a call and blocks until it is answered, fails or is
// cancelled through ctx (which sends CANCEL). Errors: ErrBadURI,
// *StatusError (the far end or a proxy said no), ErrTimeout, ErrCanceled,
// or a network error.
func (u *UA) Dial(ctx context.Context, o DialOptions) (*Call, error) {
	uri, err := u.RequestURI(o.To)
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetDestination(u.proxy())
	req.SetTransport(u.transport())
	req.AppendHeader(u.fromHeader())
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port}, Params: sip.NewParams()})
	req.AppendHeader(u.contact.Clone())
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"))
	for _, h := range o.Headers {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(o.SDP)

	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, ErrTimeout)
		defer cancel()
	}
	dlg, err := u.dlgCli.WriteInvite(ctx, req)
	if err != nil {
		return nil, noAnswer(err)
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: u.cfg.AuthUser,
		Password: u.cfg.Password,
		OnResponse: func(res *sip.Response) error {
			if res.IsProvisional() && res.StatusCode > 100 && o.OnProgress != nil {
				o.OnProgress(int(res.StatusCode), res.Reason)
			}
			return nil
		},
	})
	if err != nil {
		var de *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &de):
			return nil, statusError(de.Res)
		case ctx.Err() != nil:
			if errors.Is(context.Cause(ctx), ErrTimeout) {
				return nil, ErrTimeout
			}
			return nil, ErrCanceled
		default:
			return nil, noAnswer(err)
		}
	}
	if err := dlg.Ack(context.Background()); err != nil {
		return nil, err
	}
	return &Call{
		RemoteSDP: dlg.InviteResponse.Body(),
		bye:       dlg.Bye,
		ctx:       dlg.Context(),
	}, nil
}

// Incoming is an inbound INVITE waiting for the phone's decision.
type Incoming struct {
	Request *sip.Request
	dlg     *sipgo.DialogServerSession

	once     sync.Once
	finished chan struct{} // the INVITE transaction is over
}

// FromUser is the caller's user part (number); FromName its display name.
func (in *Incoming) FromUser() string { return in.Request.From().Address.User }
func (in *Incoming) FromName() string { return in.Request.From().DisplayName }

// Header is the value of a request header, "" when absent.
func (in *Incoming) Header(name string) string {
	if h := in.Request.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// SDP is the caller's offer (may be empty: offer in ACK is not supported).
func (in *Incoming) SDP() []byte { return in.Request.Body() }

// Canceled is closed when the caller gives up (CANCEL) or the transaction
// dies before we answer.
func (in *Incoming) Canceled() <-chan struct{} { return in.dlg.Context().Done() }

// Ring sends 180 Ringing.
func (in *Incoming) Ring() error {
	return in.dlg.Respond(sip.StatusRinging, "Ringing", nil)
}

// Answer sends 200 OK with our SDP and waits for the ACK.
func (in *Incoming) Answer(sdp []byte) (*Call, error) {
	defer in.finish()
	if err := in.dlg.RespondSDP(sdp); err != nil {
		return nil, err
	}
	return &Call{RemoteSDP: in.SDP(), bye: in.dlg.Bye, ctx: in.dlg.Context()}, nil
}

// Reject ends the call with a final error response (486, 603, 480 …).
func (in *Incoming) Reject(code int, reason string) error {
	defer in.finish()
	return in.dlg.Respond(code, reason, nil)
}

func (in *Incoming) finish() { in.once.Do(func() { close(in.finished) }) }

func (u *UA) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	dlg, err := u.dlgSrv.ReadInvite(req, tx)
	if err != nil {
		u.log.Warn("rejecting malformed INVITE", "error", err, "from", req.Source())
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	in := &Incoming{Request: req, dlg: dlg, finished: make(chan struct{})}
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)
	u.mu.Lock()
	h := u.onInvite
	u.mu.Unlock()
	if h == nil {
		_ = in.Reject(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	h(in)
	// sipgo ends the server transaction when this handler returns: hold it
	// open until the phone has answered or rejected, or the caller cancels.
	select {
	case <-in.finished:
	case <-dlg.Context().Done():
	}
}
