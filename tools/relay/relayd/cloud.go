package relayd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"deskphone/phone/agent/relay"
)

const (
	cloudService = "ccc"
	cloudVersion = "2020-02-10"
)

// cloud calls the contact center's API through the SDK's common client, which
// signs every request (TC3-HMAC-SHA256): the relay has no signing code.
type cloud struct {
	c        *common.Client
	sdkAppID uint64
}

func newCloud(cfg Config) (*cloud, error) {
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = cfg.Endpoint
	prof.HttpProfile.ReqTimeout = 15
	prof.HttpProfile.ReqMethod = http.MethodPost
	prof.Language = "en-US"
	c := common.NewCommonClient(common.NewCredential(cfg.SecretID, cfg.SecretKey), cfg.Region, prof)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = 30 * time.Second
	if cfg.CloudCAFile != "" {
		pool, err := relay.CertPool(cfg.CloudCAFile)
		if err != nil {
			return nil, fmt.Errorf("cloud %w", err)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c.WithHttpTransport(tr)
	return &cloud{c: c, sdkAppID: cfg.SdkAppID}, nil
}

// call sends one action and decodes the inside of {"Response":{...}} into out.
func (cl *cloud) call(ctx context.Context, action string, params map[string]any, out any) error {
	req := tchttp.NewCommonRequest(cloudService, cloudVersion, action)
	params["SdkAppId"] = cl.sdkAppID
	if err := req.SetActionParameters(params); err != nil {
		return err
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := cl.c.Send(req, resp); err != nil {
		return err
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil || len(env.Response) == 0 {
		return tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", action+": no Response in the cloud's answer", "")
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", fmt.Sprintf("%s: %v", action, err), "")
	}
	return nil
}

// staffStatus is one agent as DescribeStaffStatusMetrics reports it.
type staffStatus struct {
	Email               string
	Status              string // free busy rest notReady afterCallWork offline
	Reason              string
	LastStatusTimestamp int64 // unix seconds
}

func (cl *cloud) describeStatus(ctx context.Context, staff []string) ([]staffStatus, error) {
	var out struct{ Metrics []staffStatus }
	err := cl.call(ctx, "DescribeStaffStatusMetrics", map[string]any{"StaffList": staff}, &out)
	return out.Metrics, err
}

// setStatus answers the status the cloud now holds; a per-agent ErrorCode in
// an otherwise successful answer is a refusal like a top-level error.
func (cl *cloud) setStatus(ctx context.Context, staff, status, reason string) (staffStatus, error) {
	item := map[string]any{"StaffUserId": staff, "Status": status}
	if reason != "" {
		item["Reason"] = reason
	}
	var out struct {
		StaffStatusList []struct {
			StaffUserId, ErrorCode, ErrorMessage, Status, Reason string
		}
		RequestId string
	}
	if err := cl.call(ctx, "SetStaffStatus", map[string]any{"StaffStatusList": []any{item}}, &out); err != nil {
		return staffStatus{}, err
	}
	for _, it := range out.StaffStatusList {
		if it.StaffUserId != "" && it.StaffUserId != staff {
			continue
		}
		if it.ErrorCode != "" {
			return staffStatus{}, tcerr.NewTencentCloudSDKError(it.ErrorCode, it.ErrorMessage, out.RequestId)
		}
		st := staffStatus{Email: staff, Status: it.Status, Reason: it.Reason, LastStatusTimestamp: time.Now().Unix()}
		if st.Status == "" {
			st.Status, st.Reason = status, reason
		}
		return st, nil
	}
	return staffStatus{Email: staff, Status: status, Reason: reason, LastStatusTimestamp: time.Now().Unix()}, nil
}

// extension is DescribeExtension's answer: the SIP account of a desk phone.
type extension struct {
	ExtensionId, ExtensionDomain, Password, OutboundProxy, Transport string
}

func (cl *cloud) describeExtension(ctx context.Context, id string) (extension, error) {
	var out extension
	err := cl.call(ctx, "DescribeExtension", map[string]any{"ExtensionId": id}, &out)
	return out, err
}

func (cl *cloud) forceOffline(ctx context.Context, user string) error {
	return cl.call(ctx, "ForceMemberOffline", map[string]any{"UserId": user}, nil)
}

// errKind sorts a cloud error: refused (the contact center said no: the
// phone must not retry), or unavailable (network, server, rate limit, or the
// relay's own key or permissions: retry later, an operator must look).
type errKind int

const (
	kindRefused errKind = iota
	kindUnavailable
	kindAuth
)

func classify(err error) (kind errKind, code, msg string) {
	var te *tcerr.TencentCloudSDKError
	if !errors.As(err, &te) {
		return kindUnavailable, "CloudUnreachable", err.Error()
	}
	switch c := te.Code; {
	case strings.HasPrefix(c, "ClientError"), strings.HasPrefix(c, "InternalError"),
		strings.HasPrefix(c, "RequestLimitExceeded"), strings.HasPrefix(c, "ResourceUnavailable"):
		return kindUnavailable, c, te.Message
	case strings.HasPrefix(c, "AuthFailure"), strings.HasPrefix(c, "UnauthorizedOperation"):
		return kindAuth, c, te.Message
	default:
		return kindRefused, c, te.Message
	}
}
