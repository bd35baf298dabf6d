package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"deskphone/tools/labkit"
)

// The lab's accounts. Fixed passwords: this is a sealed namespace, and a
// person at the console should be able to type them.
const (
	phoneUser, phonePassword     = "1001", "lab1001"
	baresipUser, baresipPassword = "1002", "lab1002"
	baresipToneHz                = 440
)

type lab struct {
	dir       string
	phoneYAML string
	kam       *labkit.Kamailio
	far       *labkit.Baresip
}

func startLab(dir, api string) (*lab, error) {
	if !labkit.InIsolatedNetwork() {
		return nil, errors.New("not in a private network namespace (baresip would bind RTP on every interface): use `make run`, which starts the lab inside `unshare -n`")
	}
	if err := labkit.CheckBinaries(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	l := &lab{dir: abs, phoneYAML: filepath.Join(abs, "phone.yaml")}
	l.kam, err = labkit.StartKamailio(labkit.KamailioOptions{
		Dir:       filepath.Join(abs, "kamailio"),
		Users:     map[string]string{phoneUser: phonePassword, baresipUser: baresipPassword},
		ProxyAuth: true,
	})
	if err != nil {
		return nil, err
	}
	l.far, err = labkit.StartBaresip(labkit.BaresipOptions{
		Dir: filepath.Join(abs, "baresip"), User: baresipUser, Password: baresipPassword,
		Registrar: l.kam.Addr(), AnswerMode: "auto", ToneHz: baresipToneHz, Codecs: "PCMU,PCMA",
	})
	if err != nil {
		_ = l.kam.Stop()
		return nil, err
	}
	cfg := labkit.PhoneConfig{User: phoneUser, Password: phonePassword, Registrar: l.kam.Addr(),
		ListenPort: labkit.FreePort("sip"), HeardWAV: filepath.Join(abs, "heard.wav"), API: api}.YAML()
	if err := os.WriteFile(l.phoneYAML, []byte(cfg), 0o600); err != nil {
		_ = l.stop()
		return nil, err
	}
	return l, nil
}

func (l *lab) printSummary(w io.Writer) {
	fmt.Fprintf(w, `Lab running in %s
  registrar  %s (Kamailio; UDP and TCP; domain %s)
  phone      user %s, password %s — config %s
  far end    %s is baresip, auto-answers with a %d Hz tone (password %s)
  logs       %s, %s
`, l.dir, l.kam.Addr(), l.kam.Domain(), phoneUser, phonePassword, l.phoneYAML,
		baresipUser, baresipToneHz, baresipPassword,
		filepath.Join(l.dir, "kamailio", "kamailio.log"), filepath.Join(l.dir, "baresip", "baresip.log"))
}

// env tells a command run in the lab where things are.
func (l *lab) env() []string {
	return append(os.Environ(),
		"DESKPHONE_CONFIG="+l.phoneYAML,
		"LAB_REGISTRAR="+l.kam.Addr(),
		"LAB_FAR_END=sip:"+baresipUser+"@"+l.kam.Addr(),
	)
}

func (l *lab) stop() error {
	return errors.Join(l.far.Stop(), l.kam.Stop())
}
