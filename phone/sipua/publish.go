package sipua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// PublishOptions configures a Publication.
type PublishOptions struct {
	Event   string  // event package, e.g. "presence"
	Target  sip.Uri // whose state; zero: the account's AOR
	Expires int     // seconds asked for; 0: 3600
	// OnRefreshError hears a background refresh that failed (it is retried
	// with back-off). Optional; it must not block.
	OnRefreshError func(error)
}

// Publication keeps one event state published (RFC 3903): the first
// PUBLISH carries the body, the server's SIP-ETag names it, refreshes
// (before expiry) and changes carry SIP-If-Match, and a 412 (the server
// lost it) starts again with an initial PUBLISH of the last body.
type Publication struct {
	u      *UA
	opts   PublishOptions
	callID sip.CallIDHeader

	sem     chan struct{} // held for one transaction at a time; guards all below
	cseq    uint32
	etag    string
	ctype   string
	body    []byte
	granted int
	timer   *time.Timer
	backoff time.Duration
	closed  bool
}

// NewPublication prepares publishing opts.Event; nothing is sent until
// Publish.
func (u *UA) NewPublication(opts PublishOptions) *Publication {
	if opts.Target.Host == "" {
		opts.Target = u.AOR()
	}
	if opts.Expires <= 0 {
		opts.Expires = 3600
	}
	return &Publication{u: u, opts: opts, callID: sip.CallIDHeader(uuid.NewString()), backoff: RetryMin, sem: make(chan struct{}, 1)}
}

// Publish sends body as the new state: an initial PUBLISH, or a modify of
// the current one. A final non-2xx is a *StatusError; no answer is an
// error wrapping ErrTimeout.
func (p *Publication) Publish(ctx context.Context, contentType string, body []byte) error {
	if err := p.lock(ctx); err != nil {
		return err
	}
	defer p.unlock()
	if p.closed {
		return errors.New("publication closed")
	}
	p.ctype, p.body = contentType, body
	return p.sendLocked(ctx, true, p.opts.Expires)
}

// Remove withdraws the published state (Expires: 0) and stops refreshing.
func (p *Publication) Remove(ctx context.Context) error {
	if err := p.lock(ctx); err != nil {
		return err
	}
	defer p.unlock()
	p.stopLocked()
	p.body = nil
	if p.etag == "" {
		return nil
	}
	err := p.sendLocked(ctx, false, 0)
	p.etag = ""
	return err
}

// Close stops refreshing without removing: the state lapses at expiry.
func (p *Publication) Close() {
	_ = p.lock(context.Background())
	defer p.unlock()
	p.stopLocked()
	p.closed = true
}

// ETag is the entity tag of the current publication ("" if none).
func (p *Publication) ETag() string {
	_ = p.lock(context.Background())
	defer p.unlock()
	return p.etag
}

// lock waits for the transaction in progress (a refresh, say) or ctx.
func (p *Publication) lock(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the PUBLISH in progress: %w", ctx.Err())
	}
}

func (p *Publication) unlock() { <-p.sem }

func (p *Publication) stopLocked() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// sendLocked does one PUBLISH (withBody: initial or modify; otherwise a
// refresh or, with expires 0, a removal) and schedules the next refresh.
func (p *Publication) sendLocked(ctx context.Context, withBody bool, expires int) error {
	conditional := p.etag != ""
	res, err := p.transactLocked(ctx, withBody, expires)
	if err == nil && conditional && lostETag(res.StatusCode) && expires > 0 {
		// RFC 3903 §6: the server no longer knows our entity tag.
		p.etag = ""
		res, err = p.transactLocked(ctx, true, expires)
	}
	if err == nil && res.StatusCode == 423 && expires > 0 {
		if n := minExpires(res); n > expires {
			p.opts.Expires = n
			res, err = p.transactLocked(ctx, withBody || p.etag == "", n)
		}
	}
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		if lostETag(res.StatusCode) {
			p.etag = ""
		}
		return statusError(res)
	}
	if expires == 0 {
		return nil
	}
	if h := res.GetHeader("SIP-ETag"); h != nil {
		p.etag = strings.TrimSpace(h.Value())
	}
	p.granted = expiresOf(res, expires)
	p.backoff = RetryMin
	p.scheduleLocked(refreshAfter(p.granted))
	return nil
}

// transactLocked sends one PUBLISH, answering a digest challenge. An
// initial PUBLISH (no entity tag yet) always carries the body.
func (p *Publication) transactLocked(ctx context.Context, withBody bool, expires int) (*sip.Response, error) {
	u := p.u
	req := sip.NewRequest(sip.PUBLISH, p.opts.Target)
	req.SetDestination(u.proxy())
	req.AppendHeader(u.fromHeader())
	req.AppendHeader(&sip.ToHeader{Address: p.opts.Target, Params: sip.NewParams()})
	callID := p.callID
	req.AppendHeader(&callID)
	p.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.cseq, MethodName: sip.PUBLISH})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(sip.NewHeader("Event", p.opts.Event))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	if p.etag != "" {
		req.AppendHeader(sip.NewHeader("SIP-If-Match", p.etag))
	}
	if (withBody || p.etag == "") && expires > 0 && p.body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", p.ctype))
		req.SetBody(p.body)
	}
	req.SetTransport(u.transportFor(req))
	res, err := u.doAuth(ctx, req)
	p.cseq = req.CSeq().SeqNo
	return res, err
}

// scheduleLocked arms the background refresh.
func (p *Publication) scheduleLocked(after time.Duration) {
	p.stopLocked()
	if p.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(after, func() {
		_ = p.lock(context.Background())
		defer p.unlock()
		if p.timer != t || p.closed {
			return // stopped, or replaced by a newer Publish
		}
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		if err := p.sendLocked(ctx, false, p.opts.Expires); err != nil {
			wait := jitter(p.backoff)
			p.backoff = min(p.backoff*2, RetryMax)
			p.u.log.Warn("refreshing a publication failed", "event", p.opts.Event, "error", err, "retry", wait)
			if p.opts.OnRefreshError != nil {
				p.opts.OnRefreshError(err)
			}
			p.scheduleLocked(wait)
		}
	})
	p.timer = t
}

// doAuth sends an out-of-dialog or in-dialog request and answers one
// digest challenge (401/407) the way REGISTER does.
func (u *UA) doAuth(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	res, err := u.cli().Do(tctx, req)
	if err != nil {
		return nil, noAnswer(err)
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && u.password() != "" {
		res, err = u.cli().DoDigestAuth(tctx, req, res, sipgo.DigestAuth{Username: u.cfg.AuthUser, Password: u.password()})
		if err != nil {
			return nil, noAnswer(err)
		}
	}
	return res, nil
}

// expiresOf reads the Expires a 2xx granted, else what was asked.
func expiresOf(res *sip.Response, asked int) int {
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return n
		}
	}
	return asked
}

// lostETag: the answer to a conditional PUBLISH says the server lost our
// entity tag. RFC 3903 says 412; Kamailio 5.6 with publ_cache 2 answers an
// unknown SIP-If-Match with 500 ("wrong etag").
func lostETag(code int) bool { return code == 412 || code == 500 }

// minExpires reads a 423's Min-Expires (0 if absent).
func minExpires(res *sip.Response) int {
	if h := res.GetHeader("Min-Expires"); h != nil {
		n, _ := strconv.Atoi(strings.TrimSpace(h.Value()))
		return n
	}
	return 0
}
