package provision

import (
	"strings"

	"gopkg.in/yaml.v3"

	"deskphone/config"
)

// merger overlays a provisioned tree onto the local one (see the package
// doc for the rule).
type merger struct {
	keep    []string // provisioning.keep_local, with the _file twins of secrets
	file    string   // the provisioned file's name, for origins
	origins config.Origins
	ignored []string // "key: why" for each provisioned key left out
}

func newMerger(keepLocal []string, file string) *merger {
	m := &merger{file: file, origins: config.Origins{}}
	for _, k := range keepLocal {
		m.keep = append(m.keep, k)
		// A secret and its file are one setting: keeping the inline one
		// must not let the server set the other (both set is an error).
		switch {
		case strings.HasSuffix(k, "_file"):
			m.keep = append(m.keep, strings.TrimSuffix(k, "_file"))
		case strings.HasSuffix(k, ".password") || strings.HasSuffix(k, ".token"):
			m.keep = append(m.keep, k+"_file")
		}
	}
	return m
}

// merge overlays prov onto local (document nodes from config.ReadTree,
// both mappings or nil) and returns the merged tree. local is changed in
// place; the nodes taken from prov are recorded in m.origins.
func (m *merger) merge(local, prov *yaml.Node) *yaml.Node {
	m.mark(prov)
	if local == nil {
		local = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	if prov == nil {
		return local
	}
	m.mergeMap(local, prov, "")
	return local
}

// mark records every node under n as the provisioned file's.
func (m *merger) mark(n *yaml.Node) {
	if n == nil || m.origins[n] != "" {
		return
	}
	m.origins[n] = m.file
	for _, c := range n.Content {
		m.mark(c)
	}
	m.mark(n.Alias)
}

func (m *merger) mergeMap(dst, src *yaml.Node, prefix string) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(src.Content); i += 2 {
		kn, vn := src.Content[i], src.Content[i+1]
		key := kn.Value
		if prefix != "" {
			key = prefix + "." + key
		}
		if seen[kn.Value] { // let the decoder report the duplicate, in the provisioned file
			dst.Content = append(dst.Content, kn, vn)
			continue
		}
		seen[kn.Value] = true
		if why := m.kept(key); why != "" {
			m.ignored = append(m.ignored, key+": "+why)
			continue
		}
		j := find(dst, kn.Value)
		v := config.Resolve(vn)
		var old *yaml.Node
		if j >= 0 {
			old = config.Resolve(dst.Content[j+1])
		}
		switch {
		case v.Kind == yaml.MappingNode: // a section: merge key by key
			if old == nil || old.Kind != yaml.MappingNode {
				old = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column}
				m.origins[old] = m.file
				if j < 0 {
					dst.Content = append(dst.Content, kn, old)
				} else {
					dst.Content[j], dst.Content[j+1] = kn, old
				}
			}
			m.mergeMap(old, v, key)
		case config.IsNull(v) && old != nil && old.Kind == yaml.MappingNode:
			// an empty section in the provisioned file changes nothing
		case j < 0:
			dst.Content = append(dst.Content, kn, vn)
		default: // a leaf (value or list): the provisioned one wins, with its line
			dst.Content[j], dst.Content[j+1] = kn, vn
		}
	}
}

// kept says why key is not taken from the provisioned file, or "".
func (m *merger) kept(key string) string {
	if under(key, "provisioning") {
		return "provisioning keys are always local"
	}
	for _, k := range m.keep {
		if under(key, k) {
			return "kept local by provisioning.keep_local"
		}
	}
	return ""
}

// under reports whether key is section or one of its keys.
func under(key, section string) bool {
	return key == section || strings.HasPrefix(key, section+".")
}

// find returns the index of name's key in mapping n, or -1.
func find(n *yaml.Node, name string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return i
		}
	}
	return -1
}
