package config

import (
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Origins names the file each node of a merged tree came from (see
// config/provision); a node not in it comes from the tree's own file.
type Origins map[*yaml.Node]string

// ReadTree parses data as YAML and returns its document node, nil for an
// empty file. A syntax error is an *Error naming the file and line.
func ReadTree(data []byte, name string) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Problems: []Problem{syntaxProblem(data, name, err)}}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return root.Content[0], nil
}

// ParseTree decodes and validates doc, a tree from ReadTree into which nodes
// of other files may have been merged (origins, may be nil): every problem
// names the file and line its value came from. name is the tree's own file;
// relative paths are taken relative to dir ("" = the working directory).
func ParseTree(doc *yaml.Node, name string, origins Origins, dir string) (*Config, error) {
	d := newDecoder(name)
	d.origins = origins
	c := Default()
	d.decodeStruct(doc, reflect.ValueOf(c).Elem(), "")
	d.applyDefaults(c)
	d.readSecrets(c, dir)
	d.validate(c, dir)
	if len(d.problems) > 0 {
		return nil, d.err()
	}
	return c, nil
}

// err is every problem, the tree's own file first, each file in line order.
func (d *decoder) err() *Error {
	slices.SortStableFunc(d.problems, func(a, b Problem) int {
		if (a.File == d.file) != (b.File == d.file) {
			if a.File == d.file {
				return -1
			}
			return 1
		}
		return a.Line - b.Line
	})
	return &Error{Problems: d.problems}
}

// ReadProvisioning decodes and checks only the provisioning: section of
// doc, so that the rest may be completed by the provisioned file before it
// is validated.
func ReadProvisioning(doc *yaml.Node, name, dir string) (Provisioning, error) {
	d := newDecoder(name)
	c := Default()
	if doc = resolve(doc); doc != nil && doc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if kn := doc.Content[i]; kn.Value == "provisioning" {
				d.at("provisioning", kn)
				d.decodeValue(doc.Content[i+1], reflect.ValueOf(&c.Provisioning).Elem(), "provisioning")
				break
			}
		}
	}
	d.checkProvisioning(&c.Provisioning, dir)
	if len(d.problems) > 0 {
		return Provisioning{}, d.err()
	}
	return c.Provisioning, nil
}

// KnownKey reports whether key (dotted, e.g. account.password or calls) is
// a key of the schema.
func KnownKey(key string) bool {
	t := reflect.TypeFor[Config]()
	for name := range strings.SplitSeq(key, ".") {
		if t.Kind() != reflect.Struct || t == durationType {
			return false
		}
		i := fieldIndex(t, name)
		if i < 0 {
			return false
		}
		t = t.Field(i).Type
	}
	return key != ""
}

// Resolve follows YAML aliases (*name) to the node they stand for; the
// provisioning merge walks trees the way the decoder does.
func Resolve(n *yaml.Node) *yaml.Node { return resolve(n) }

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool { return isNull(n) }
