//go:build tools

// Package deps pins the modules the project has chosen, so go.mod keeps
// them before every package imports them.
package deps

import (
	_ "github.com/emiago/sipgo"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "gopkg.in/yaml.v3"
)
