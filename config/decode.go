package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree into a struct by its yaml tags. Doing this by
// hand, rather than with yaml.Unmarshal, gives every key its line, lets all
// type errors and unknown keys be reported together, and never panics.
type decoder struct {
	file     string
	origins  Origins           // nodes merged in from other files (nil = none)
	files    map[string]string // dotted key -> file, for keys from origins
	lines    map[string]int    // dotted key (and key[i] for list items) -> line
	bad      map[string]bool   // keys whose value could not be decoded
	problems []Problem
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, files: map[string]string{}, lines: map[string]int{}, bad: map[string]bool{}}
}

// fileOf returns the file key (or its nearest ancestor present) came from.
func (d *decoder) fileOf(key string) string {
	for {
		if _, ok := d.lines[key]; ok {
			if f, ok := d.files[key]; ok {
				return f
			}
			return d.file
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return d.file
		}
		key = key[:i]
	}
}

// nodeFile returns the file node n came from.
func (d *decoder) nodeFile(n *yaml.Node) string {
	if f, ok := d.origins[n]; ok {
		return f
	}
	return d.file
}

// at records that key is written at node n.
func (d *decoder) at(key string, n *yaml.Node) {
	d.lines[key] = n.Line
	if f, ok := d.origins[n]; ok {
		d.files[key] = f
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// line returns the line of key, or of its nearest ancestor present in the
// file, or 0.
func (d *decoder) line(key string) int {
	for {
		if l, ok := d.lines[key]; ok {
			return l
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
}

// present reports whether key was written in the file.
func (d *decoder) present(key string) bool {
	_, ok := d.lines[key]
	return ok
}

// failed reports whether key or one of its ancestors could not be decoded;
// checks on it would only repeat that problem.
func (d *decoder) failed(key string) bool {
	for {
		if d.bad[key] {
			return true
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return d.bad[""] // the document itself
		}
		key = key[:i]
	}
}

// add records a problem at key's line unless key already failed to decode.
func (d *decoder) add(key, format string, args ...any) {
	d.addAt(key, d.line(key), format, args...)
}

// addAt records a problem at line of the file key came from.
func (d *decoder) addAt(key string, line int, format string, args ...any) {
	d.addIn(d.fileOf(key), key, line, format, args...)
}

func (d *decoder) addIn(file, key string, line int, format string, args ...any) {
	if d.failed(key) {
		return
	}
	d.problems = append(d.problems, Problem{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// typeError records that key's value has the wrong shape and stops further
// checks on it.
func (d *decoder) typeError(key string, n *yaml.Node, format string, args ...any) {
	d.addIn(d.nodeFile(n), key, n.Line, format, args...)
	d.bad[key] = true
}

// decodeStruct decodes mapping n into the struct v; prefix is the dotted key
// of n ("" for the document).
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, prefix string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		what := "keys"
		if prefix == "" {
			what = "sections (account:, agent:, …)"
		}
		d.typeError(prefix, n, "expected a mapping of %s, got %s; write one key: value per line", what, describe(n))
		return
	}
	t := v.Type()
	known := yamlKeys(t)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		name := kn.Value
		key := join(prefix, name)
		if first, dup := seen[name]; dup {
			d.addIn(d.nodeFile(kn), key, kn.Line, "duplicate key (first at %s); keep only one", d.where(first, kn))
			continue
		}
		seen[name] = kn
		idx := fieldIndex(t, name)
		if idx < 0 {
			msg := fmt.Sprintf("unknown key (known: %s)", strings.Join(known, ", "))
			if s := suggest(name, known); s != "" {
				msg += "; did you mean " + s + "?"
			} else {
				msg += "; remove it or fix its spelling"
			}
			d.addIn(d.nodeFile(kn), key, kn.Line, "%s", msg)
			continue
		}
		d.at(key, kn)
		d.decodeValue(vn, v.Field(idx), key)
	}
}

// decodeValue decodes n into v. A null value leaves v (the default) alone.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, key string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if v.Type() == durationType {
		d.decodeDuration(n, v, key)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, key)
	case reflect.String:
		if s, ok := d.scalar(n, key, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		s, ok := d.scalar(n, key, "a whole number")
		if !ok {
			return
		}
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || v.OverflowInt(i) {
			if def := v.Int(); def != 0 {
				d.typeError(key, n, "'%s' is not a whole number; write digits only, e.g. %s: %d", s, lastKey(key), def)
			} else {
				d.typeError(key, n, "'%s' is not a whole number; write digits only", s)
			}
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		s, ok := d.scalar(n, key, "true or false")
		if !ok {
			return
		}
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			d.typeError(key, n, "'%s' is not true or false; write %s: true or %s: false", s, lastKey(key), lastKey(key))
			return
		}
		v.SetBool(b)
	case reflect.Slice: // []string
		d.decodeList(n, v, key)
	default:
		panic("config: unsupported field type " + v.Type().String()) // programming error in this package
	}
}

// decodeDuration decodes a duration like 30s into v.
func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, key string) {
	s, ok := d.scalar(n, key, "a duration like 30s")
	if !ok {
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		if _, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			d.typeError(key, n, "'%s' has no unit; write e.g. %ss", s, strings.TrimSpace(s))
		} else {
			d.typeError(key, n, "'%s' is not a duration; write e.g. 30s, 2m or 1m30s", s)
		}
		return
	}
	v.SetInt(int64(dur))
}

// decodeList decodes a list of names into the []string v.
func (d *decoder) decodeList(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(key, n, "expected a list like [A, B], got %s", describe(n))
		return
	}
	items := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		ikey := fmt.Sprintf("%s[%d]", key, i)
		item = resolve(item)
		d.at(ikey, item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			d.typeError(key, item, "item %d: expected a single name, got %s", i+1, describe(item))
			return
		}
		items = append(items, item.Value)
	}
	v.Set(reflect.ValueOf(items))
}

// where names the line of first for a message about second: "line N", or
// "FILE:N" when they come from different files.
func (d *decoder) where(first, second *yaml.Node) string {
	if f := d.nodeFile(first); f != d.nodeFile(second) {
		return fmt.Sprintf("%s:%d", f, first.Line)
	}
	return fmt.Sprintf("line %d", first.Line)
}

// scalar returns n's text, or records a type error if n is a list or mapping.
func (d *decoder) scalar(n *yaml.Node, key, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.typeError(key, n, "expected %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("'%s'", n.Value)
	default: // a document or an unresolved alias: not a value
		return "nothing"
	}
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if tagName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func lastKey(key string) string {
	return key[strings.LastIndexByte(key, '.')+1:]
}
