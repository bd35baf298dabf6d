package control

// The configuration file as text for GET and PUT /v1/config: its secrets
// masked on the way out and put back on the way in, validation by the
// config package, and an atomic replacement of the file.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"deskphone/config"
	"deskphone/config/atomic"
	"deskphone/config/provision"
)

// secretMask stands for a secret in GET /v1/config's text. Sent back
// unchanged in a PUT, it keeps the secret the file holds.
const secretMask = "********"

// isSecretKey: passwords, tokens and secrets by key name (account.password,
// api.token, relay.token, and any later key named so). *_file keys hold
// paths, not secrets.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "token", "secret"} {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

// secrets calls f with the dotted key and value node of each secret scalar
// in the document n (through aliases, each node once).
func secrets(n *yaml.Node, f func(key string, v *yaml.Node)) {
	seen := map[*yaml.Node]bool{} // containers walked, secrets reported
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n == nil || seen[n] {
			return
		}
		if n.Kind != yaml.ScalarNode {
			seen[n] = true
		}
		switch n.Kind { //nolint:exhaustive // a scalar has nothing under it
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.AliasNode:
			walk(n.Alias, prefix)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.AliasNode {
					v = v.Alias
				}
				if v != nil && v.Kind == yaml.ScalarNode && isSecretKey(k.Value) {
					if !seen[v] && v.Value != "" {
						seen[v] = true
						f(prefix+k.Value, v)
					}
					continue
				}
				walk(v, prefix+k.Value+".")
			}
		}
	}
	walk(n, "")
}

// readConfigText reads the configuration file.
func readConfigText(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the configuration file: %w", err)
	}
	return string(b), nil
}

// maskSecrets replaces each secret's value in a YAML text by secretMask. It
// edits the secret's line only, so the file keeps its layout and comments;
// when that does not give the same document with the secrets masked (a
// multi-line value, say), it writes the masked document out anew. A text
// that is not YAML is shown with the values of its secret-looking lines
// masked, so that it can be fixed.
func maskSecrets(text string) string {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return maskLines(text)
	}
	lines := strings.Split(text, "\n")
	var spots []*yaml.Node
	secrets(&doc, func(_ string, v *yaml.Node) { spots = append(spots, v) })
	if len(spots) == 0 {
		return text
	}
	for _, v := range spots {
		if v.Line < 1 || v.Line > len(lines) || v.Column < 1 {
			continue
		}
		line := []rune(lines[v.Line-1])
		if v.Column-1 > len(line) {
			continue
		}
		masked := string(line[:v.Column-1]) + `"` + secretMask + `"`
		if c := v.LineComment; c != "" {
			masked += " " + c
		}
		lines[v.Line-1] = masked
	}
	for _, v := range spots {
		v.Value, v.Style, v.Tag = secretMask, yaml.DoubleQuotedStyle, "!!str"
	}
	out := strings.Join(lines, "\n")
	if sameDocument(out, &doc) {
		return out
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return maskLines(text)
	}
	return b.String()
}

// sameDocument reports whether text parses to what doc decodes to.
func sameDocument(text string, doc *yaml.Node) bool {
	var a, b any
	if yaml.Unmarshal([]byte(text), &a) != nil || doc.Decode(&b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// maskLines masks "key: value" lines of secret keys in a text that does not
// parse as YAML.
func maskLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		k, _, ok := strings.Cut(l, ":")
		if ok && isSecretKey(strings.Trim(strings.TrimSpace(k), `"'- `)) {
			lines[i] = k + `: "` + secretMask + `"`
		}
	}
	return strings.Join(lines, "\n")
}

// unmaskSecrets puts the file's own value (from old, the current text) in
// place of each secret of text that is still secretMask. problems names a
// mask with nothing to stand for.
func unmaskSecrets(text, old, name string) (string, []string) {
	var doc yaml.Node
	if yaml.Unmarshal([]byte(text), &doc) != nil {
		return text, nil // validation reports the syntax error
	}
	was := map[string]string{}
	var oldDoc yaml.Node
	if yaml.Unmarshal([]byte(old), &oldDoc) == nil {
		secrets(&oldDoc, func(k string, v *yaml.Node) { was[k] = v.Value })
	}
	lines := strings.Split(text, "\n")
	var problems []string
	want := map[string]string{}
	secrets(&doc, func(k string, v *yaml.Node) {
		if v.Value != secretMask {
			return
		}
		orig, ok := was[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %s stands for a secret the file does not hold; type the real value", name, v.Line, k, secretMask))
			return
		}
		line := []rune(lines[v.Line-1])
		at := v.Column - 1
		if v.Anchor != "" && at >= 0 && at < len(line) && line[at] == '&' { // "&name value"
			at += 1 + len([]rune(v.Anchor))
			for at < len(line) && line[at] == ' ' {
				at++
			}
		}
		for _, q := range []string{`"`, `'`} {
			tok := []rune(q + secretMask + q)
			if at >= 0 && at+len(tok) <= len(line) && string(line[at:at+len(tok)]) == string(tok) {
				quoted, _ := json.Marshal(orig) // a JSON string is a YAML double-quoted scalar
				lines[v.Line-1] = string(line[:at]) + string(quoted) + string(line[at+len(tok):])
				want[k] = orig
				return
			}
		}
		problems = append(problems, fmt.Sprintf(`%s:%d: %s: write the mask as %q right after the key to keep the secret, or type the real value`, name, v.Line, k, secretMask))
	})
	if len(problems) > 0 {
		return text, problems
	}
	out := strings.Join(lines, "\n")
	// Check the edit: every restored secret reads back as the file's.
	var check yaml.Node
	if err := yaml.Unmarshal([]byte(out), &check); err != nil {
		return text, []string{fmt.Sprintf("%s: putting the file's secrets back in place of %s failed (%v); type the secrets instead", name, secretMask, err)}
	}
	secrets(&check, func(k string, v *yaml.Node) {
		if w, ok := want[k]; ok && v.Value != w {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: putting the file's secret back in place of %s failed; type the real value", name, v.Line, k, secretMask))
		}
	})
	return out, problems
}

// saveConfig validates text as the configuration file at path and, when it
// is valid, replaces the file with it atomically (a temporary file in the
// same directory, synced, renamed over it). It returns the problems found,
// each "file:line: key: message", or an error if the file could not be
// written.
func saveConfig(path, text string) ([]string, error) {
	name := filepath.Base(path)
	target, err := filepath.EvalSymlinks(path) // replace the file, not a symlink to it
	if err != nil {
		return nil, fmt.Errorf("cannot find the configuration file: %w", err)
	}
	old, err := readConfigText(target)
	if err != nil {
		return nil, err
	}
	text, problems := unmaskSecrets(text, old, name)
	if len(problems) > 0 {
		return problems, nil
	}
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write next to the configuration file: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after a successful rename there is nothing left to remove
	mode := os.FileMode(0o600)
	if st, err := os.Stat(target); err == nil {
		mode = st.Mode().Perm()
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write the new configuration: %w", err)
	}
	// Checked as at boot: relative paths (password_file, …) against the
	// file's own directory, merged with the stored provisioned file, so a
	// file that leaves the password to the provisioning server is valid.
	if _, err := provision.Check(tmp); err != nil {
		var cerr *config.Error
		if !errors.As(err, &cerr) {
			return nil, err
		}
		for _, p := range cerr.Problems {
			if p.File == tmp {
				p.File = name
			}
			problems = append(problems, p.String())
		}
		return problems, nil
	}
	if err := os.Rename(tmp, target); err != nil {
		return nil, fmt.Errorf("cannot replace the configuration file: %w", err)
	}
	atomic.SyncDir(dir) // make the rename itself durable
	return nil, nil
}
