package labkit

import (
	_ "embed"
	"strings"
)

// SIPp scenarios for the call-core end-to-end tests; run them with
// StartSIPp or RunSIPp. Each file's header comment says what it does and
// which variables (SIPpOptions.Vars) it takes. UAC scenarios call
// [service]@Remote directly (no registrar); UAS scenarios answer whatever
// calls SIPp.Addr.
var (
	// ScenarioNoAck (UAC) calls with a PCMU offer and never ACKs; it takes
	// the callee's retransmitted 200s, then waits up to wait_ms (default
	// 40000) for the callee's BYE and answers it. It passes either way:
	// check SIPp.Received("BYE").
	//
	//go:embed scenarios/noack.xml
	ScenarioNoAck string

	// ScenarioRefresh (UAC) calls, then re-INVITEs every interval_ms
	// (default 5000) refreshes times (default 6), ACKing each 200, then
	// sends BYE. Any other answer fails it.
	//
	//go:embed scenarios/refresh.xml
	ScenarioRefresh string

	// ScenarioInfoDTMF (UAC) calls, then sends INFO
	// application/dtmf-relay "Signal=5\r\nDuration=160\r\n" and INFO
	// application/dtmf "7", each expecting 200, then BYE; pause_ms
	// (default 500) between the steps.
	//
	//go:embed scenarios/info_dtmf.xml
	ScenarioInfoDTMF string

	// ScenarioFlood (UAC) sends one out-of-dialog OPTIONS per call and
	// awaits no answer, so SIPp's rate (-r) holds: a scanner's flood.
	// FloodScenario gives it for another method.
	//
	//go:embed scenarios/flood.xml
	ScenarioFlood string

	// ScenarioRegistrarKick (UAS) is a registrar that grants the first
	// REGISTER (Expires: 4) and refuses the refresh with
	// 403 Logged In Elsewhere: another device took the extension over.
	//
	//go:embed scenarios/registrar_kick.xml
	ScenarioRegistrarKick string

	// ScenarioUASInfoDTMF (UAS) answers a call with PCMU, answers every
	// INFO with 200 and ends on BYE; SIPp.Received("INFO") has the INFOs.
	//
	//go:embed scenarios/uas_info_dtmf.xml
	ScenarioUASInfoDTMF string

	// ScenarioSessionTimerUAS (UAS) answers with "Session-Expires:
	// <expires>;refresher=uac" (Vars["expires"], required) and Require: timer, accepts any number of
	// re-INVITE and UPDATE refreshes, and ends on BYE.
	//
	//go:embed scenarios/session_timer_uas.xml
	ScenarioSessionTimerUAS string
)

// FloodScenario is ScenarioFlood sending method (e.g. INVITE) instead of
// OPTIONS. (SIPp takes no variable for a request's method.)
func FloodScenario(method string) string {
	return strings.ReplaceAll(ScenarioFlood, "OPTIONS", method)
}
