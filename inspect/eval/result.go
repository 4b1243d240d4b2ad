package eval

import (
	"encoding/json"
	"fmt"
	"go/constant"
	"reflect"

	"github.com/go-delve/delve/pkg/proc"
	"github.com/go-delve/delve/service/api"
)

// Result is an evaluated value. String and Format print it the way dlv's
// print does; MarshalJSON gives it as structured data.
type Result struct {
	v      *proc.Variable
	pretty *api.Variable
}

func newResult(v *proc.Variable) *Result {
	return &Result{v: v, pretty: api.ConvertVar(v)}
}

// String formats the value on one line.
func (r *Result) String() string { return r.Format(false) }

// Format formats the value as dlv formats it: on one line, or, as dlv's
// print command does, with structs, arrays and maps over several lines.
func (r *Result) Format(multiline bool) string {
	if multiline {
		return r.pretty.StringWithOptions("", "", api.PrettyNewlines)
	}
	return r.pretty.SinglelineString()
}

// Type is the Go type of the value, as Delve names it.
func (r *Result) Type() string { return r.pretty.Type }

// JSONValue is the JSON form of a value, one node per value:
//
//   - value: a number, bool or string for those kinds; the address pointed
//     to ("0x...") for pointers; the function's name for funcs
//   - const: the named constant equal to an integer value, if any
//   - len, cap: of strings, arrays, slices, maps and channels; a loaded
//     string, or list of children, shorter than len was cut by the limits
//   - children: struct fields (with names), elements, the value a pointer
//     points to or an interface holds
//   - entries: the key/value pairs of a map
//   - unreadable: why the value could not be read (the rest is absent)
type JSONValue struct {
	Name       string         `json:"name,omitempty"`
	Type       string         `json:"type"`
	Kind       string         `json:"kind"`
	Addr       string         `json:"addr,omitempty"`
	Value      any            `json:"value,omitempty"`
	Const      string         `json:"const,omitempty"`
	Len        *int64         `json:"len,omitempty"`
	Cap        *int64         `json:"cap,omitempty"`
	Unreadable string         `json:"unreadable,omitempty"`
	Children   []JSONValue    `json:"children,omitempty"`
	Entries    []JSONMapEntry `json:"entries,omitempty"`
}

// JSONMapEntry is one key/value pair of a map.
type JSONMapEntry struct {
	Key   JSONValue `json:"key"`
	Value JSONValue `json:"value"`
}

// MarshalJSON gives the value as a JSONValue.
func (r *Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(toJSONValue(r.v))
}

func toJSONValue(v *proc.Variable) JSONValue {
	j := JSONValue{Name: v.Name, Type: api.PrettyTypeName(v.DwarfType), Kind: v.Kind.String()}
	if v.Addr != 0 {
		j.Addr = hexAddr(v.Addr)
	}
	if v.Unreadable != nil {
		j.Unreadable = v.Unreadable.Error()
		return j
	}
	switch v.Kind {
	case reflect.String, reflect.Array, reflect.Slice, reflect.Map, reflect.Chan:
		j.Len = &v.Len
	}
	switch v.Kind {
	case reflect.Slice, reflect.Chan:
		j.Cap = &v.Cap
	}
	j.Value = scalarValue(v)
	if isInteger(v.Kind) {
		j.Const = v.ConstDescr()
	}
	if v.Kind == reflect.Map {
		for i := 0; i+1 < len(v.Children); i += 2 {
			j.Entries = append(j.Entries, JSONMapEntry{toJSONValue(&v.Children[i]), toJSONValue(&v.Children[i+1])})
		}
		return j
	}
	for i := range v.Children {
		j.Children = append(j.Children, toJSONValue(&v.Children[i]))
	}
	return j
}

// scalarValue is v's own value in JSON terms, nil for kinds whose value
// is only their children.
func scalarValue(v *proc.Variable) any {
	if v.Kind == reflect.Ptr || v.Kind == reflect.UnsafePointer {
		if len(v.Children) > 0 {
			return hexAddr(v.Children[0].Addr)
		}
		return nil
	}
	if v.Value == nil {
		return nil
	}
	if v.FloatSpecial != 0 {
		return api.VariableValueAsString(v) // JSON has no number for ±Inf, NaN
	}
	switch v.Value.Kind() {
	case constant.Bool:
		return constant.BoolVal(v.Value)
	case constant.String:
		return constant.StringVal(v.Value)
	case constant.Int:
		return json.Number(v.Value.ExactString())
	case constant.Float:
		f, _ := constant.Float64Val(v.Value)
		return f
	default:
		return v.Value.String()
	}
}

func isInteger(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Int64) || (k >= reflect.Uint && k <= reflect.Uintptr)
}

func hexAddr(a uint64) string { return fmt.Sprintf("%#x", a) }
