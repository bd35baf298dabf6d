package config

import (
	"net"
	"strconv"
	"strings"
)

// portRule says which ports an address may use and shows a good example.
type portRule struct {
	min     int    // lowest allowed port: 0 for local listen addresses, else 1
	anyHost bool   // an empty host (":5060") means every local interface
	example string // a port to suggest
}

// checkHostPort validates a host:port value at key and reports its problem.
// It returns the host and whether the value is valid.
func (d *decoder) checkHostPort(key, s string, rule portRule) (string, bool) {
	if lower := strings.ToLower(s); strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		d.add(key, "'%s' is a SIP URI; write only host:port, e.g. pbx.example.com:%s", s, rule.example)
		return "", false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		d.add(key, "'%s' is not host:port; write e.g. %s", s, net.JoinHostPort(exampleHost(s), rule.example))
		return "", false
	}
	if host == "" && !rule.anyHost {
		d.add(key, "'%s' has no host; write e.g. pbx.example.com:%s", s, port)
		return "", false
	}
	if host != "" && !validHost(host) {
		d.add(key, "'%s' is not a valid host name or IP address; fix the host part of '%s'", host, s)
		return "", false
	}
	if p, err := strconv.Atoi(port); err != nil || p < rule.min || p > 65535 {
		hint := ""
		if rule.min == 0 {
			hint = "; 0 picks a free one"
		}
		d.add(key, "'%s' is not a valid port (use %d-65535%s, e.g. %s)", s, rule.min, hint, net.JoinHostPort(host, rule.example))
		return "", false
	}
	return host, true
}

// exampleHost guesses the host part of a malformed address for an example.
func exampleHost(s string) string {
	if h, _, ok := strings.Cut(s, ":"); ok && validHost(h) {
		return h
	}
	if validHost(s) {
		return s
	}
	return "pbx.example.com"
}

// validHost reports whether h is an IP address or a syntactically valid DNS name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_' {
				return false
			}
		}
	}
	return true
}

// isLoopback reports whether host only accepts connections from this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
