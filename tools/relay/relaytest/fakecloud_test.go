package relaytest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// The verifier must accept what the SDK signs and catch any change to it;
// otherwise the relay tests would prove nothing about the signature.
func TestSignatureVerifier(t *testing.T) {
	var got *http.Request
	var body []byte
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r.Clone(r.Context()), must(io.ReadAll(r.Body))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Response":{"RequestId":"x"}}`)
	}))
	defer capture.Close()
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(capture.URL, "http://")
	prof.HttpProfile.Scheme = "HTTP"
	c := common.NewCommonClient(common.NewCredential(SecretID, SecretKey), Region, prof)
	req := tchttp.NewCommonRequest("ccc", "2020-02-10", "ForceMemberOffline")
	_ = req.SetActionParameters(map[string]any{"SdkAppId": SdkAppID, "UserId": Alice})
	if err := c.Send(req, tchttp.NewCommonResponse()); err != nil {
		t.Fatal(err)
	}
	f := &FakeCloud{t: t, opt: CloudOptions{SecretID: SecretID, SecretKey: SecretKey, Region: Region, SdkAppID: SdkAppID}}
	if msg := f.checkRequest(got, body); msg != "" {
		t.Fatalf("the SDK's request was refused: %s", msg)
	}
	tampered := bytes.Replace(body, []byte("alice"), []byte("mallory"), 1)
	if msg := f.checkRequest(got, tampered); !strings.Contains(msg, "signature mismatch") {
		t.Errorf("tampered body: %q, want a signature mismatch", msg)
	}
	f.opt.SecretKey = "another-key"
	if msg := f.checkRequest(got, body); !strings.Contains(msg, "signature mismatch") {
		t.Errorf("wrong key: %q, want a signature mismatch", msg)
	}
	f.opt.SecretKey, f.opt.SecretID = SecretKey, "AKIDother"
	if msg := f.checkRequest(got, body); !strings.Contains(msg, "Credential") {
		t.Errorf("wrong SecretId: %q, want a Credential error", msg)
	}
	f.opt.SecretID = SecretID
	got.Header.Set("X-TC-Version", "2017-03-12")
	if msg := f.checkRequest(got, body); !strings.Contains(msg, "X-TC-Version") {
		t.Errorf("wrong version: %q", msg)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
