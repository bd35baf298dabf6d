package agent

import (
	"fmt"
	"strings"
)

// Status is an agent status with the web SDK's names (tccc-agent.md §4.1).
type Status string

// The statuses.
const (
	Free     Status = "free"     // online and idle: can be offered calls
	Busy     Status = "busy"     // in a call (set by the phone, never requested)
	Arrange  Status = "arrange"  // after-call work (the cloud API's afterCallWork)
	NotReady Status = "notReady" // takes no inbound calls, may call out
	Rest     Status = "rest"     // on a break, with a reason
	Offline  Status = "offline"  // not taking part
)

// StopNotReady is not a status but a request: leave notReady.
const StopNotReady = "stopNotReady"

// CloudAfterCallWork is the cloud API's spelling of Arrange
// (DescribeStaffStatusMetrics); ParseStatus accepts it.
const CloudAfterCallWork = "afterCallWork"

// ParseStatus reads a status name as the SDK or the cloud API spells it.
func ParseStatus(s string) (Status, error) {
	switch st := Status(strings.TrimSpace(s)); st {
	case Free, Busy, Arrange, NotReady, Rest, Offline:
		return st, nil
	case CloudAfterCallWork:
		return Arrange, nil
	}
	return "", fmt.Errorf("unknown agent status %q: use free, busy, arrange, notReady, rest or offline", s)
}

// Cloud is the status as the cloud API spells it.
func (s Status) Cloud() string {
	if s == Arrange {
		return CloudAfterCallWork
	}
	return string(s)
}
