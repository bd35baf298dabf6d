package phone

// Event payloads. JSON field names follow the contact center's SDK guide
// (tccc-agent.md §3, §4.3); fields marked (phone) are the phone's own.

// Session directions (TCCCSessionDirection).
const (
	CallIn  = "CallIn"
	CallOut = "CallOut"
)

// onEnded reasons (TCCCEndReason).
const (
	EndError        = "Error"
	EndTimeout      = "Timeout"
	EndLocalBye     = "LocalBye"
	EndRemoteBye    = "RemoteBye"
	EndRejected     = "Rejected"
	EndRemoteCancel = "RemoteCancel"
)

// ServerType is what kind of agent device this is.
const ServerType = "staffExtensionSeat"

// SessionInfo is onNewSession's payload.
type SessionInfo struct {
	SessionID         string `json:"sessionId"`
	SessionDirection  string `json:"sessionDirection"`
	CallerPhoneNumber string `json:"callerPhoneNumber"`
	CalleePhoneNumber string `json:"calleePhoneNumber"`
	PeerName          string `json:"peerName,omitempty"` // (phone) the far end's display name
	Remark            string `json:"remark,omitempty"`
	UUI               string `json:"uui,omitempty"`
	ServerType        string `json:"serverType"`
}

// SessionRef is onAccepted's payload.
type SessionRef struct {
	SessionID string `json:"sessionId"`
}

// Ended is onEnded's payload.
type Ended struct {
	Reason        string    `json:"reason"`
	ReasonMessage string    `json:"reasonMessage"`
	SessionID     string    `json:"sessionId"`
	SIPCode       int       `json:"sipCode,omitempty"` // (phone) final SIP status, if any
	RTP           *RTPStats `json:"rtp,omitempty"`     // (phone) the call's RTP counters; nil if it had no media
}

// RTPStats is what a call's RTP stream counted, from its start to its end
// (phone). Lost is by sequence number (RFC 3550 A.3) and may be negative
// when duplicates arrive.
type RTPStats struct {
	PacketsSent     uint64 `json:"packetsSent"`
	PacketsReceived uint64 `json:"packetsReceived"`
	PacketsLost     int64  `json:"packetsLost"`
}

// ErrorInfo is onError's payload.
type ErrorInfo struct {
	ErrCode   int    `json:"errCode"`
	ErrMsg    string `json:"errMsg"`
	ExtraInfo string `json:"extraInfo,omitempty"`
}

// WarningInfo is onWarning's payload.
type WarningInfo struct {
	WarningCode int    `json:"warningCode"`
	WarningMsg  string `json:"warningMsg"`
	ExtraInfo   string `json:"extraInfo,omitempty"`
}

// RegistrationInfo is onRegistration's payload (phone).
type RegistrationInfo struct {
	State   string `json:"state"` // unregistered, registering, registered, failed
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Expires int    `json:"expires,omitempty"`
	RetryIn string `json:"retryIn,omitempty"`
	RetryAt int64  `json:"retryAt,omitempty"` // Unix ms of the next attempt: the display counts down to it
}

// DTMFInfo is onDTMF's payload (phone): a digit from the far end.
type DTMFInfo struct {
	SessionID string `json:"sessionId"`
	Digit     string `json:"digit"`
}

// RingingInfo is onRinging's payload (phone): the far end is alerting.
type RingingInfo struct {
	SessionID string `json:"sessionId"`
	Code      int    `json:"code"`
}

// MutedInfo is onMuted's payload (phone).
type MutedInfo struct {
	SessionID string `json:"sessionId"`
	Muted     bool   `json:"muted"`
}

// The web SDK's call events (tccc-agent.md §4.3), published beside the
// native ones with the web SDK's field names. tabUUID names a browser tab
// in the web SDK; a desk phone has none, so it is empty.

// WebCallIn is callIn's payload.
type WebCallIn struct {
	SessionID         string    `json:"sessionId"`
	Type              string    `json:"type"`    // "phone"
	Timeout           int       `json:"timeout"` // seconds until the call stops ringing
	CalleePhoneNumber string    `json:"calleePhoneNumber"`
	CallerPhoneNumber string    `json:"callerPhoneNumber"`
	CallerLocation    string    `json:"callerLocation"`
	Remark            string    `json:"remark"`
	IvrPath           []IvrStep `json:"ivrPath"`
	ProtectedCallee   string    `json:"protectedCallee"`
	ProtectedCaller   string    `json:"protectedCaller"`
	ServerType        string    `json:"serverType"`
}

// IvrStep is one key the caller pressed in the IVR (none known to a phone).
type IvrStep struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// WebCallOuted is callOuted's payload.
type WebCallOuted struct {
	SessionID         string `json:"sessionId"`
	CallerPhoneNumber string `json:"callerPhoneNumber"`
	CalleePhoneNumber string `json:"calleePhoneNumber"`
	ServerType        string `json:"serverType"`
	TabUUID           string `json:"tabUUID"`
}

// WebSession is the payload of userAccessed, calloutAccepted and transfer.
type WebSession struct {
	SessionID string `json:"sessionId"`
	TabUUID   string `json:"tabUUID,omitempty"`
}

// WebSessionEnded is sessionEnded's payload. closeBy: seat (the agent),
// client (the customer), timer (nobody answered in time), admin (the
// system: a failure).
type WebSessionEnded struct {
	SessionID  string `json:"sessionId"`
	CloseBy    string `json:"closeBy"`
	MainReason string `json:"mainReason"`
	SubReason  string `json:"subReason"`
}

// ConnectionInfo is the payload of onConnectionLost, onTryToReconnect and
// onConnectionRecovery.
type ConnectionInfo struct {
	ServerType string `json:"serverType"`
	Reason     string `json:"reason,omitempty"`  // (phone) why the connection was lost
	Attempt    int    `json:"attempt,omitempty"` // (phone) which reconnect attempt
}
