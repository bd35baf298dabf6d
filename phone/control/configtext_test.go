package control

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Whatever shape a secret takes in the file, GET's text never shows it, and
// PUT puts it back from the file when the mask comes back unchanged.
func TestMaskSecrets(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"plain", "account:\n  user: a\n  password: hunter2secret # SIP\napi:\n  token: tok-hunter2secret\n"},
		{"quoted", "account:\n  password: 'hunter2secret'\nrelay:\n  token: \"hunter2secret\\t\"\n"},
		{"block", "account:\n  password: |\n    hunter2secret\n  user: a\n"},
		{"flow", "account: {user: a, password: hunter2secret}\n"},
		{"alias", "x: &pw hunter2secret\naccount:\n  password: *pw\n"},
		{"not yaml", "account:\n  password: hunter2secret\n  [oops\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			masked := maskSecrets(tc.text)
			if strings.Contains(masked, "hunter2secret") {
				t.Fatalf("masked text shows the secret:\n%s", masked)
			}
			if !strings.Contains(masked, secretMask) {
				t.Fatalf("no mask in:\n%s", masked)
			}
			if tc.name == "not yaml" {
				return
			}
			back, problems := unmaskSecrets(masked, tc.text, "phone.yaml")
			if len(problems) > 0 {
				t.Fatalf("unmask: %q\nof\n%s", problems, masked)
			}
			var a, b any
			if err := yaml.Unmarshal([]byte(back), &a); err != nil {
				t.Fatalf("unmasked text is not YAML: %v\n%s", err, back)
			}
			_ = yaml.Unmarshal([]byte(tc.text), &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("unmasked %v, the file holds %v\n%s", a, b, back)
			}
		})
	}
	// The simple case keeps the layout and the comment.
	if got := maskSecrets("a: 1\n\naccount:\n  password: x # SIP\n"); got != "a: 1\n\naccount:\n  password: \"********\" # SIP\n" {
		t.Errorf("masked %q", got)
	}
	if got := maskSecrets("api:\n  token_file: /etc/t\n"); got != "api:\n  token_file: /etc/t\n" {
		t.Errorf("a *_file path was masked: %q", got)
	}
}

// A file that leaves the password to the provisioning server is valid
// when the stored provisioned file gives it, as at boot.
func TestSaveConfigWithProvisionedPassword(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "provisioned.yaml")
	if err := os.WriteFile(store, []byte("account:\n  password: from-the-server\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf(`account:
  registrar: 127.0.0.1:5060
  user: "1001"
agent:
  sdk_app_id: 1400000001
  user_id: a@example.com
provisioning:
  url: https://prov.example.com/deskphone/
  store: %s
`, store)
	path := filepath.Join(dir, "phone.yaml")
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	problems, err := saveConfig(path, strings.Replace(local, `user: "1001"`, `user: "1002"`, 1))
	if err != nil || len(problems) > 0 {
		t.Fatalf("saving a provisioned config: %v %q", err, problems)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"1002"`) {
		t.Errorf("the file was not saved:\n%s", data)
	}
	// Without the stored file the password is missing, and the message says so.
	_ = os.Remove(store)
	problems, err = saveConfig(path, local)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "phone.yaml") || !strings.Contains(problems[0], "account.password") {
		t.Fatalf("no stored password: %v %q", err, problems)
	}
}
