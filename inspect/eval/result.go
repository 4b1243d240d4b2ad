package eval

import (
	"github.com/go-delve/delve/service/api"
)

// Result is an evaluated value, formatted the way dlv formats it.
type Result struct {
	v *api.Variable
}

// String formats the value on one line, as dlv's print does with a short
// value.
func (r *Result) String() string { return r.Format(false) }

// Format formats the value as dlv's print does: on one line, or with
// structs, arrays and maps spread over several lines when multiline.
func (r *Result) Format(multiline bool) string {
	if multiline {
		return r.v.StringWithOptions("", "", api.PrettyNewlines)
	}
	return r.v.SinglelineString()
}

// Type is the Go type of the value, as Delve names it.
func (r *Result) Type() string { return r.v.Type }
