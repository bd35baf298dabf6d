// Package relaytest is test support for the relay and its phone client: a
// fake contact-center cloud API that checks every request the way the real
// one does (TC3-HMAC-SHA256 signature, headers, exact JSON fields), and a
// helper that starts a relay against it.
package relaytest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Staff is one agent's status in the fake cloud.
type Staff struct {
	Status string // free busy rest notReady afterCallWork offline
	Reason string
	Since  int64 // unix seconds
}

// Extension is a desk phone's SIP account in the fake cloud.
type Extension struct {
	ExtensionId, ExtensionDomain, Password, OutboundProxy, Transport string
}

// Call is one accepted request: the action and its JSON body.
type Call struct {
	Action string
	Params map[string]any
}

// CloudOptions are the credentials and application the fake expects.
type CloudOptions struct {
	SecretID, SecretKey string
	Region              string // the X-TC-Region expected; empty = none
	SdkAppID            uint64
}

// FakeCloud is an HTTPS server standing in for ccc.tencentcloudapi.com.
type FakeCloud struct {
	t   testing.TB
	opt CloudOptions
	srv *httptest.Server

	mu    sync.Mutex
	staff map[string]Staff
	exts  map[string]Extension
	fail  map[string][2]string // action → {Code, Message}
	calls []Call
	seq   int
}

// NewFakeCloud starts the fake; it stops at the end of the test.
func NewFakeCloud(t testing.TB, opt CloudOptions) *FakeCloud {
	f := &FakeCloud{t: t, opt: opt, staff: map[string]Staff{}, exts: map[string]Extension{}, fail: map[string][2]string{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Endpoint is host:port, for the relay's -endpoint.
func (f *FakeCloud) Endpoint() string { return strings.TrimPrefix(f.srv.URL, "https://") }

// WriteCA writes the fake's certificate as PEM into dir and returns the path.
func (f *FakeCloud) WriteCA(dir string) string {
	return writeCert(f.t, dir, "cloud-ca.pem", f.srv.Certificate().Raw)
}

// Close takes the cloud down: requests then fail to connect.
func (f *FakeCloud) Close() {
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// SetStaff changes an agent's status as the workbench or an admin would.
func (f *FakeCloud) SetStaff(email, status, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staff[strings.ToLower(email)] = Staff{Status: status, Reason: reason, Since: time.Now().Unix()}
}

// DeleteStaff removes an agent: the cloud then answers ResourceNotFound.
func (f *FakeCloud) DeleteStaff(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.staff, strings.ToLower(email))
}

// Staff returns an agent's status.
func (f *FakeCloud) Staff(email string) (Staff, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.staff[strings.ToLower(email)]
	return s, ok
}

// SetExtension adds or replaces an extension.
func (f *FakeCloud) SetExtension(e Extension) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exts[e.ExtensionId] = e
}

// Fail makes every later request for action answer the cloud error
// {"Response":{"Error":{"Code","Message"}}}; an empty code clears it.
func (f *FakeCloud) Fail(action, code, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code == "" {
		delete(f.fail, action)
		return
	}
	f.fail[action] = [2]string{code, message}
}

// Calls returns the accepted requests for action ("" = all).
func (f *FakeCloud) Calls(action string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// The exact request bodies; unknown fields are refused like the real API.
type (
	setStaffStatusReq struct {
		SdkAppId        uint64
		StaffStatusList []struct{ StaffUserId, Status, Reason string }
	}
	describeMetricsReq struct {
		SdkAppId    uint64
		StaffList   []string
		GroupIdList []int64
		StatusList  []string
	}
	describeExtensionReq struct {
		SdkAppId    uint64
		ExtensionId string
	}
	forceOfflineReq struct {
		SdkAppId uint64
		UserId   string
	}
)

func (f *FakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	action := r.Header.Get("X-TC-Action")
	if msg := f.checkRequest(r, body); msg != "" {
		f.t.Errorf("fake cloud: %s request refused: %s", action, msg)
		f.answerErr(w, "AuthFailure.SignatureFailure", msg)
		return
	}
	var req any
	switch action {
	case "SetStaffStatus":
		req = &setStaffStatusReq{}
	case "DescribeStaffStatusMetrics":
		req = &describeMetricsReq{}
	case "DescribeExtension":
		req = &describeExtensionReq{}
	case "ForceMemberOffline":
		req = &forceOfflineReq{}
	default:
		f.t.Errorf("fake cloud: unexpected action %q", action)
		f.answerErr(w, "InvalidAction", "unknown action "+action)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		f.t.Errorf("fake cloud: %s body %s: %v", action, body, err)
		f.answerErr(w, "InvalidParameter", err.Error())
		return
	}
	if msg := f.checkParams(req); msg != "" {
		f.t.Errorf("fake cloud: %s body %s: %s", action, body, msg)
		f.answerErr(w, "MissingParameter", msg)
		return
	}
	var params map[string]any
	json.Unmarshal(body, &params) //nolint:errcheck // decoded above

	f.mu.Lock()
	f.calls = append(f.calls, Call{action, params})
	e, failing := f.fail[action]
	f.mu.Unlock()
	if failing {
		f.answerErr(w, e[0], e[1])
		return
	}
	switch q := req.(type) {
	case *setStaffStatusReq:
		f.answer(w, map[string]any{"StaffStatusList": f.setStatus(q)})
	case *describeMetricsReq:
		f.answer(w, map[string]any{"Metrics": f.metrics(q)})
	case *describeExtensionReq:
		f.mu.Lock()
		ext, ok := f.exts[q.ExtensionId]
		f.mu.Unlock()
		if !ok {
			f.answerErr(w, "ResourceNotFound", "extension "+q.ExtensionId+" does not exist")
			return
		}
		f.answer(w, map[string]any{"ExtensionId": ext.ExtensionId, "ExtensionDomain": ext.ExtensionDomain,
			"Password": ext.Password, "OutboundProxy": ext.OutboundProxy, "Transport": ext.Transport})
	case *forceOfflineReq:
		f.mu.Lock()
		_, ok := f.staff[strings.ToLower(q.UserId)]
		if ok {
			f.staff[strings.ToLower(q.UserId)] = Staff{Status: "offline", Since: time.Now().Unix()}
		}
		f.mu.Unlock()
		if !ok {
			f.answerErr(w, "ResourceNotFound", "no staff "+q.UserId)
			return
		}
		f.answer(w, map[string]any{})
	}
}

func (f *FakeCloud) setStatus(q *setStaffStatusReq) []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]string
	for _, it := range q.StaffStatusList {
		key := strings.ToLower(it.StaffUserId)
		old, ok := f.staff[key]
		item := map[string]string{"StaffUserId": it.StaffUserId, "ErrorCode": "", "ErrorMessage": "",
			"Status": old.Status, "Reason": old.Reason, "PreviousStatus": old.Status, "PreviousReason": old.Reason}
		switch {
		case !ok:
			item["ErrorCode"], item["ErrorMessage"] = "ResourceNotFound.StaffNotExist", "no staff "+it.StaffUserId
		case it.Status != "free" && it.Status != "notReady" && it.Status != "rest":
			item["ErrorCode"], item["ErrorMessage"] = "InvalidParameterValue", "Status must be free, notReady or rest"
		default:
			f.staff[key] = Staff{Status: it.Status, Reason: it.Reason, Since: time.Now().Unix()}
			item["Status"], item["Reason"] = it.Status, it.Reason
		}
		out = append(out, item)
	}
	return out
}

func (f *FakeCloud) metrics(q *describeMetricsReq) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, email := range q.StaffList {
		s, ok := f.staff[strings.ToLower(email)]
		if !ok {
			continue
		}
		out = append(out, map[string]any{"Email": email, "Status": s.Status, "Reason": s.Reason,
			"LastStatusTimestamp": s.Since, "OnlineDuration": 0, "FreeDuration": 0})
	}
	return out
}

func (f *FakeCloud) checkParams(req any) string {
	app := func(id uint64) string {
		if id != f.opt.SdkAppID {
			return fmt.Sprintf("SdkAppId %d, want %d", id, f.opt.SdkAppID)
		}
		return ""
	}
	switch q := req.(type) {
	case *setStaffStatusReq:
		if len(q.StaffStatusList) == 0 || len(q.StaffStatusList) > 10 {
			return "StaffStatusList must hold 1 to 10 items"
		}
		for _, it := range q.StaffStatusList {
			if it.StaffUserId == "" || it.Status == "" {
				return "StaffStatusList item without StaffUserId or Status"
			}
		}
		return app(q.SdkAppId)
	case *describeMetricsReq:
		return app(q.SdkAppId)
	case *describeExtensionReq:
		if q.ExtensionId == "" {
			return "ExtensionId missing"
		}
		return app(q.SdkAppId)
	case *forceOfflineReq:
		if q.UserId == "" {
			return "UserId missing"
		}
		return app(q.SdkAppId)
	}
	return "unknown request"
}

// checkRequest verifies the method, headers and TC3-HMAC-SHA256 signature,
// recomputed here from the published algorithm (not by the SDK).
func (f *FakeCloud) checkRequest(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return fmt.Sprintf("%s %s, want POST /", r.Method, r.URL.Path)
	}
	if v := r.Header.Get("X-TC-Version"); v != "2020-02-10" {
		return fmt.Sprintf("X-TC-Version %q, want 2020-02-10", v)
	}
	if got := r.Header.Get("X-TC-Region"); got != f.opt.Region {
		return fmt.Sprintf("X-TC-Region %q, want %q", got, f.opt.Region)
	}
	ts := r.Header.Get("X-TC-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Sprintf("X-TC-Timestamp %q is not unix seconds", ts)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Sprintf("X-TC-Timestamp %s is %v away from now", ts, d)
	}
	auth := r.Header.Get("Authorization")
	const algo = "TC3-HMAC-SHA256"
	rest, ok := strings.CutPrefix(auth, algo+" ")
	if !ok {
		return fmt.Sprintf("Authorization %q does not start with %s", auth, algo)
	}
	fields := map[string]string{}
	for _, p := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(p, "=")
		fields[k] = v
	}
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	scope := date + "/ccc/tc3_request"
	if want := f.opt.SecretID + "/" + scope; fields["Credential"] != want {
		return fmt.Sprintf("Credential %q, want %q", fields["Credential"], want)
	}
	signed := fields["SignedHeaders"]
	if !strings.Contains(";"+signed+";", ";content-type;") || !strings.Contains(";"+signed+";", ";host;") {
		return fmt.Sprintf("SignedHeaders %q must include content-type and host", signed)
	}
	var canonHeaders strings.Builder
	for _, h := range strings.Split(signed, ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Sprintf("Content-Type %q, want application/json", ct)
	}
	canonical := strings.Join([]string{"POST", "/", "", canonHeaders.String(), signed, sha256Hex(body)}, "\n")
	toSign := strings.Join([]string{algo, ts, scope, sha256Hex([]byte(canonical))}, "\n")
	key := hmacSHA256([]byte("TC3"+f.opt.SecretKey), date)
	key = hmacSHA256(key, "ccc")
	key = hmacSHA256(key, "tc3_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(fields["Signature"]), []byte(want)) {
		return "signature mismatch (wrong SecretKey, or the body or headers changed after signing)"
	}
	return ""
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (f *FakeCloud) requestID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("fake-%08d", f.seq)
}

func (f *FakeCloud) answer(w http.ResponseWriter, resp map[string]any) {
	resp["RequestId"] = f.requestID()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"Response": resp}) //nolint:errcheck // the fake cloud's client sees a broken answer
}

func (f *FakeCloud) answerErr(w http.ResponseWriter, code, msg string) {
	f.answer(w, map[string]any{"Error": map[string]string{"Code": code, "Message": msg}})
}

func writeCert(t testing.TB, dir, name string, der []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
