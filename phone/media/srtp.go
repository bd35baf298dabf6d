package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SDES-SRTP (RFC 4568): each side offers its own master key in an
// a=crypto attribute, and each encrypts what it sends with its own key.
// The crypto suites are the two every SIP phone has.
const (
	SuiteAES80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAES32 = "AES_CM_128_HMAC_SHA1_32"
)

// keySaltLen is the master key (16) plus the master salt (14) of both
// AES_CM_128 suites.
const keySaltLen = 30

// Crypto is one a=crypto attribute: tag, suite and inline master key+salt.
type Crypto struct {
	Tag   int
	Suite string
	Key   []byte // master key || master salt, 30 bytes
}

// ErrCrypto is a malformed or unusable a=crypto attribute.
var ErrCrypto = errors.New("a=crypto")

// NewCrypto makes a fresh random master key for suite.
func NewCrypto(tag int, suite string) (Crypto, error) {
	if _, err := profileOf(suite); err != nil {
		return Crypto{}, err
	}
	c := Crypto{Tag: tag, Suite: suite, Key: make([]byte, keySaltLen)}
	if _, err := rand.Read(c.Key); err != nil {
		return Crypto{}, fmt.Errorf("srtp: no randomness for a master key: %w", err)
	}
	return c, nil
}

// ParseCrypto reads an a=crypto value: "1 AES_CM_128_HMAC_SHA1_80
// inline:KEY[|lifetime][|MKI:length] [session params]". A lifetime is
// accepted; an MKI is refused (the phone keys one master key per call).
func ParseCrypto(value string) (Crypto, error) {
	f := strings.Fields(value)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w %q: want TAG SUITE inline:KEY", ErrCrypto, value)
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, fmt.Errorf("%w %q: tag %q is not a number of up to 9 digits", ErrCrypto, value, f[0])
	}
	if _, err := profileOf(f[1]); err != nil {
		return Crypto{}, err
	}
	params, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return Crypto{}, fmt.Errorf("%w %q: key method %q is not inline", ErrCrypto, value, f[2])
	}
	parts := strings.Split(params, "|")
	if len(parts) > 2 || len(parts) == 2 && strings.Contains(parts[1], ":") {
		return Crypto{}, fmt.Errorf("%w %q: an MKI is not supported", ErrCrypto, value)
	}
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil || len(key) != keySaltLen {
		return Crypto{}, fmt.Errorf("%w %q: the inline key must be %d bytes of base64 (key and salt)", ErrCrypto, value, keySaltLen)
	}
	return Crypto{Tag: tag, Suite: f[1], Key: key}, nil
}

// String is the a=crypto value.
func (c Crypto) String() string {
	return strconv.Itoa(c.Tag) + " " + c.Suite + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
}

// GoString keeps the key out of %#v (and %v of a struct holding it): a
// master key must never reach a log.
func (c Crypto) GoString() string {
	return "media.Crypto{Tag:" + strconv.Itoa(c.Tag) + ", Suite:" + c.Suite + ", Key:<secret>}"
}

// Format keeps the key out of every fmt verb for the same reason.
func (c Crypto) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "%d %s inline:<secret>", c.Tag, c.Suite)
}

func profileOf(suite string) (srtp.ProtectionProfile, error) {
	switch suite {
	case SuiteAES80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case SuiteAES32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("%w: crypto suite %q is not supported: use %s or %s", ErrCrypto, suite, SuiteAES80, SuiteAES32)
}

// SRTP protects one call's packets: what we send with our key, what we
// receive with the far end's. Each direction and each protocol has its
// own context, so the sender, receiver and RTCP goroutines share none.
// The destination buffers are the caller's: nothing is allocated per
// packet when they have room for the auth tag (len + 14 bytes).
type SRTP struct {
	txRTP, rxRTP, txRTCP, rxRTCP *srtp.Context
	txHdr, rxHdr                 rtp.Header // reused: pion unmarshals into them
	txRTCPHdr, rxRTCPHdr         rtcp.Header
}

// NewSRTP keys a call: local is our a=crypto (we encrypt with it),
// remote the far end's (we decrypt with it). Both must use one suite.
func NewSRTP(local, remote Crypto) (*SRTP, error) {
	if local.Suite != remote.Suite {
		return nil, fmt.Errorf("%w: our suite %s and the far end's %s differ", ErrCrypto, local.Suite, remote.Suite)
	}
	profile, err := profileOf(local.Suite)
	if err != nil {
		return nil, err
	}
	mk := func(c Crypto, opts ...srtp.ContextOption) (*srtp.Context, error) {
		if len(c.Key) != keySaltLen {
			return nil, fmt.Errorf("%w: a master key of %d bytes, want %d", ErrCrypto, len(c.Key), keySaltLen)
		}
		return srtp.CreateContext(c.Key[:16], c.Key[16:], profile, opts...)
	}
	// Received packets are checked against replays (RFC 3711 §3.3.2):
	// a window of 64, as libsrtp's default.
	s := &SRTP{}
	for _, x := range []struct {
		dst  **srtp.Context
		c    Crypto
		opts []srtp.ContextOption
	}{
		{&s.txRTP, local, nil}, {&s.txRTCP, local, nil},
		{&s.rxRTP, remote, []srtp.ContextOption{srtp.SRTPReplayProtection(64)}},
		{&s.rxRTCP, remote, []srtp.ContextOption{srtp.SRTCPReplayProtection(64)}},
	} {
		if *x.dst, err = mk(x.c, x.opts...); err != nil {
			return nil, fmt.Errorf("srtp: %w", err)
		}
	}
	return s, nil
}

// ProtectRTP encrypts and authenticates an RTP packet into dst.
// Sender goroutine only.
func (s *SRTP) ProtectRTP(dst, packet []byte) ([]byte, error) {
	return s.txRTP.EncryptRTP(dst, packet, &s.txHdr)
}

// UnprotectRTP checks and decrypts an SRTP packet into dst; a packet
// that fails authentication or is a replay is an error. Receiver
// goroutine only.
func (s *SRTP) UnprotectRTP(dst, packet []byte) ([]byte, error) {
	return s.rxRTP.DecryptRTP(dst, packet, &s.rxHdr)
}

// ProtectRTCP encrypts a compound RTCP packet into dst (RTCP sender only).
func (s *SRTP) ProtectRTCP(dst, packet []byte) ([]byte, error) {
	return s.txRTCP.EncryptRTCP(dst, packet, &s.txRTCPHdr)
}

// UnprotectRTCP checks and decrypts an SRTCP packet into dst (RTCP
// receiver only).
func (s *SRTP) UnprotectRTCP(dst, packet []byte) ([]byte, error) {
	return s.rxRTCP.DecryptRTCP(dst, packet, &s.rxRTCPHdr)
}
