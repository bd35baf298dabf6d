package labkit

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Binding is one registered contact of an AOR.
type Binding struct {
	Contact string // the Contact URI as registered
	Expires int    // seconds left
}

// Bindings returns the contacts registered for user, read from Kamailio's
// location table over its control socket.
func (k *Kamailio) Bindings(user string) ([]Binding, error) {
	out, err := exec.Command("kamcmd", "-s", "unix:"+k.ctlSock, "ul.dump").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("kamcmd ul.dump: %w: %s", err, out)
	}
	return parseULDump(string(out), user)
}

// parseULDump reads kamcmd's indented text form of ul.dump: an "AoR:" line
// and then, for each contact, "Address:" followed by "Expires:".
func parseULDump(out, user string) ([]Binding, error) {
	var bs []Binding
	var aor string
	inContact := false
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch key {
		case "AoR":
			aor, inContact = val, false
		case "Address":
			inContact = aor == user
			if inContact {
				bs = append(bs, Binding{Contact: val})
			}
		case "Expires":
			if !inContact {
				continue
			}
			// "permanent" and "deleted" are not numbers; both count as 0.
			n, err := strconv.Atoi(val)
			if err == nil {
				bs[len(bs)-1].Expires = n
			}
		}
	}
	if aor == "" && !strings.Contains(out, "Domain") {
		return nil, fmt.Errorf("kamcmd ul.dump: unexpected output: %.200q", out)
	}
	return bs, nil
}
