package config

import (
	"strings"
	"testing"
)

func TestProvisioningKeys(t *testing.T) {
	base := "account: {registrar: pbx, user: \"1001\", password: x}\nagent: {sdk_app_id: 1, user_id: a}\nprovisioning:\n"
	c, err := Parse([]byte(base+"  url: prov.example.com/deskphone\n  mac: 0C:1A:2B:3C:4D:5E\n  keep_local: [api.token, account]\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Provisioning.MAC != "0c1a2b3c4d5e" {
		t.Errorf("mac = %q, want 0c1a2b3c4d5e", c.Provisioning.MAC)
	}
	for _, tc := range []struct{ body, want string }{
		{"  url: http://prov.example.com/\n", "t.yaml:4: provisioning.url: http://prov.example.com/ would fetch the configuration, passwords included, in clear over the network; use https://"},
		{"  url: tftp://10.0.0.1/\n", "t.yaml:4: provisioning.url: tftp://10.0.0.1/: tftp:// is not supported; serve the files over https://"},
		{"  mac: 0c1a2b\n", "t.yaml:4: provisioning.mac: '0c1a2b' is not a MAC address"},
		{"  keep_local: [api.tokn]\n", "t.yaml:4: provisioning.keep_local: item 1: 'api.tokn' is not a configuration key"},
		{"  keep_local:\n    - account\n    - provisioning.url\n", "t.yaml:6: provisioning.keep_local: item 2: provisioning.url is always kept local; remove it"},
		{"  store: \"\"\n", "t.yaml:4: provisioning.store: is empty"},
		{"  timeout: 0s\n", "t.yaml:4: provisioning.timeout: 0s is out of range"},
	} {
		_, err := Parse([]byte(base+tc.body), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.body, err, tc.want)
		}
	}
}

func TestProvisioningBase(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.5":                        "https://10.0.0.5/",
		"https://prov.example.com/a":      "https://prov.example.com/a/",
		"http://127.0.0.1:8080/deskphone": "http://127.0.0.1:8080/deskphone/",
		" https://p:8443/x/ \n":           "https://p:8443/x/",
	} {
		if got, err := ProvisioningBase(in); err != nil || got != want {
			t.Errorf("ProvisioningBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ProvisioningBase("https://user:pw@p/"); err == nil {
		t.Error("a URL with credentials was accepted")
	}
}

// ReadProvisioning looks only at provisioning:, so a local file that the
// server completes (no password here) still says where to fetch from.
func TestReadProvisioning(t *testing.T) {
	src := "account: {registrar: pbx}\nprovisioning:\n  url: https://p/x\n  mac: 00-11-22-33-44-55\n"
	doc, err := ReadTree([]byte(src), "l.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadProvisioning(doc, "l.yaml", "/etc/deskphone")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "https://p/x" || p.MAC != "001122334455" || p.Store != "/var/lib/deskphone/provisioned.yaml" {
		t.Errorf("got %+v", p)
	}
	doc, _ = ReadTree([]byte("provisioning:\n  url: ftp://p/\n"), "l.yaml")
	if _, err := ReadProvisioning(doc, "l.yaml", ""); err == nil || !strings.Contains(err.Error(), "l.yaml:2: provisioning.url:") {
		t.Errorf("bad url: %v", err)
	}
}

func TestKnownKey(t *testing.T) {
	for k, want := range map[string]bool{
		"account": true, "account.password": true, "audio.sim.input": true, "calls.ring_timeout": true,
		"calls.ring_timeout.x": false, "acount": false, "": false, "account.": false,
	} {
		if got := KnownKey(k); got != want {
			t.Errorf("KnownKey(%q) = %v, want %v", k, got, want)
		}
	}
}
