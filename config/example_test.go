package config_test

import (
	"errors"
	"fmt"

	"deskphone/config"
)

func ExampleParse() {
	c, err := config.Parse([]byte(`
account:
  registrar: pbx.example.com
  user: "1001"
  password: secret
agent:
  sdk_app_id: 1400000001
  user_id: agent1001@example.com
audio:
  codecs: [pcma]
`), "phone.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi := c.Audio.RTPPortRange()
	fmt.Println("register", c.Account.User+"@"+c.Account.Domain, "at", c.Account.Registrar, "over", c.Account.Transport)
	fmt.Println("codecs", c.Audio.Codecs, "rtp", lo, "to", hi)
	fmt.Println("ring timeout", c.Calls.RingTimeout)
	// Output:
	// register 1001@pbx.example.com at pbx.example.com over udp
	// codecs [PCMA] rtp 16384 to 16583
	// ring timeout 30s
}

func ExampleError() {
	_, err := config.Parse([]byte(`
account:
  registrar: pbx:99999
  user: "1001"
  pasword: secret
agent:
  sdk_app_id: 1400000001
  user_id: agent1001@example.com
api:
  listen: 0.0.0.0:8080
`), "phone.yaml")
	fmt.Println(err)

	var cerr *config.Error
	if errors.As(err, &cerr) {
		fmt.Println(len(cerr.Problems), "problems; the first is at", cerr.Problems[0].Key)
	}
	// Output:
	// phone.yaml:2: account.password: missing; add password: (or password_file: PATH) under account:
	// phone.yaml:3: account.registrar: 'pbx:99999' is not a valid port (use 1-65535, e.g. pbx:5060)
	// phone.yaml:5: account.pasword: unknown key (known: registrar, failover, dns, failover_timeout, failback_probe, failback_after, domain, user, auth_user, password, password_file, display_name, transport, expires, listen, keepalive, address_check, retry_min, retry_max, probe, reg_event, provision, cache, trusted_peers, accept_direct, ca_file, tls_server_name); did you mean password?
	// phone.yaml:10: api.listen: 0.0.0.0:8080 is reachable from the network; set api.token or api.token_file, or listen on 127.0.0.1
	// 4 problems; the first is at account.password
}
