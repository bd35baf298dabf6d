//go:build tools

// Package deps pins the modules the project has chosen, so go.mod keeps
// them before every package imports them.
package deps

import (
	_ "github.com/emiago/sipgo"
	_ "github.com/miekg/dns"
	_ "github.com/pion/opus"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "github.com/pion/srtp/v3"
	_ "gopkg.in/hraban/opus.v2"
	_ "gopkg.in/yaml.v3"
)
