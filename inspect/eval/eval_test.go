package eval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sharedEvaluator evaluates on one target started for the test.
func sharedEvaluator(t *testing.T) *Evaluator {
	t.Helper()
	tg := startTarget(t)
	ev, err := New(tg.exe, tg.memory())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	return ev
}

// evalCase is an expression and its value as dlv prints it on one line.
type evalCase struct{ expr, want string }

// expectValues evaluates each case's expression and compares the value.
func expectValues(t *testing.T, ev *Evaluator, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		r, err := ev.Eval(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := r.String(); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
}

// mustEval evaluates expr and formats its value on one line, or on several.
func mustEval(t *testing.T, ev *Evaluator, expr string, multiline bool) string {
	t.Helper()
	r, err := ev.Eval(expr)
	if err != nil {
		t.Fatal(err)
	}
	return r.Format(multiline)
}

// The expected values are those testdata/go/evaltarget builds; none depends on
// an address.
var evalCases = []evalCase{
	{"main.Instance.CPUs[1].Current.TID", "101"},
	{"len(main.Instance.CPUs)", "3"},
	{"cap(main.Instance.Tags)", "2"},
	{"main.Instance.Name", `"mcos0"`},
	{"Instance.Name", `"mcos0"`}, // unqualified names resolve in package main
	{"main.Instance.Name[1:3]", `"co"`},
	{"main.Instance.Name[0]", "109"},
	{"*main.Instance.Alloc", "main.Allocator {Free: 1048576, Total: 536870912, Ratio: 0.5}"},
	{"main.Instance.Alloc.Total / main.Instance.Alloc.Free", "512"},
	{"main.Instance.Alloc.Ratio * 3", "1.5"},
	{"main.Instance.Alloc.Free > 3 && main.Instance.Alloc.Ratio < 1", "true"},
	{"main.Instance.Nil == nil", "true"},
	{"main.Instance.Nil", "*main.Thread nil"},
	{"main.Instance.CPUs[0].Current", "*main.Thread nil"},
	{"main.Instance.CPUs[1].Ticks", "[4]uint32 [5,6,7,8]"},
	{"main.Instance.CPUs[1].Ticks[3] - main.Instance.CPUs[1].Ticks[0]", "3"},
	{"main.Instance.Threads[202].Name", `"worker"`},
	{"*main.Instance.Threads[101]", "main.Thread {TID: 101, Name: \"init\", Kind: KindBusy (1), Flags: 57005}"},
	{"len(main.Instance.Threads)", "2"},
	{"main.Instance.Kmsg", "[]uint8 len: 8, cap: 8, [98,111,111,116,32,111,107,10]"},
	{"string(main.Instance.Kmsg)", `"boot ok\n"`},
	{"main.Instance.Tags", `[]string len: 2, cap: 2, ["lwk","go"]`},
	{"main.Instance.Any.(*main.Thread).TID", "101"},
	{"main.Instance.Any", `interface {}(*main.Thread) *{TID: 101, Name: "init", Kind: KindBusy (1), Flags: 57005}`},
	{"main.Instance.CPUs[2].Current.Kind", "KindIdle (0)"},
	{"main.Instance.CPUs[1].Current.Kind == main.KindBusy", "true"},
	{"uint8(main.Counter)", "214"},
	{"main.Counter", "-42"},
	{"-main.Counter + 2", "44"},
	{"main.Counter % 5", "-2"},
	{"main.Instance.CPUs[1].Current.Flags & 0xff", "173"},
	{"main.Instance.CPUs[1].Current.Flags << 4", "912080"},
	{"main.Sample.B", "true"},
	{"main.Sample.I8", "-8"},
	{"main.Sample.U64", "18446744073709551615"},
	{"main.Sample.F32", "1.25"},
	{"main.Sample.NaN", "NaN"},
	{"main.Sample.Inf", "-Inf"},
	{"main.Sample.C", "(1 + -2i)"},
	{"main.Sample.Fn", "main.hook"},
	{"main.Sample.Arr", "[3]int16 [-1,0,1]"},
	{"main.Sample.Empty", "[]int len: 0, cap: 0, nil"},
	{"main.Sample.NilMap", "map[string]int nil"},
	{"main.Sample.Long", `"0123456789012345678901234567890123456789012345678901234567890123...+136 more"`},
	{"len(main.Sample.Long)", "200"},
	{"main.Sample.UP", "4660"},
	{"main.Sample.Ch.qcount", "1"},
	{"runtime.buildVersion", `"go1.26.8"`},
	{`"a" + "b"`, `"ab"`},
	{"1 << 10", "1024"},
}

func TestEval(t *testing.T) {
	expectValues(t, sharedEvaluator(t), evalCases)
}

func TestEvalUnreadable(t *testing.T) {
	ev := sharedEvaluator(t)
	if s := mustEval(t, ev, "*main.Instance.Bad", false); !strings.Contains(s, "TID: (unreadable ") || !strings.Contains(s, "0x10") {
		t.Errorf("*main.Instance.Bad = %s, want its fields unreadable at 0x10", s)
	}
	if s := mustEval(t, ev, "*(*int)(8)", false); !strings.HasPrefix(s, "(unreadable ") {
		t.Errorf("*(*int)(8) = %s, want unreadable", s)
	}
}

func TestEvalErrors(t *testing.T) {
	ev := sharedEvaluator(t)
	for _, c := range []struct{ expr, want string }{
		{"main.Instance.(", "expected"},
		{"", "expected"},
		{"nosuch.X", "could not find symbol"},
		{"main.NoSuchVar", "main"},
		{"main.Instance.NoField", "NoField"},
		{"main.Instance.CPUs[7]", "out of bounds"},
		{"main.Instance.Name + 1", "convert"},
		{"main.Instance.CPUs[1].Current.TID = 5", "expected"},
		{"main.hook()", "function calls"},
	} {
		_, err := ev.Eval(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", c.expr, err, c.want)
		}
	}
}

func TestEvalMultiline(t *testing.T) {
	want := "main.Samples {\n\tB: true,\n\tI8: -8,\n"
	if got := mustEval(t, sharedEvaluator(t), "main.Sample", true); !strings.HasPrefix(got, want) {
		t.Errorf("multiline:\n%s\nwant\n%s", got, want)
	}
}

func TestEvalJSON(t *testing.T) {
	ev := sharedEvaluator(t)
	evalJSON := func(expr string) JSONValue {
		t.Helper()
		r, err := ev.Eval(expr)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var j JSONValue
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("%s: %v in %s", expr, err, b)
		}
		return j
	}

	thread := evalJSON("main.Instance.CPUs[1].Current")
	if thread.Kind != "ptr" || thread.Type != "*main.Thread" || len(thread.Children) != 1 {
		t.Fatalf("pointer: %+v", thread)
	}
	fields := map[string]JSONValue{}
	for _, f := range thread.Children[0].Children {
		fields[f.Name] = f
	}
	if v := fields["TID"].Value; v != json.Number("101") && v != float64(101) {
		t.Errorf("TID value %#v", v)
	}
	if f := fields["Kind"]; f.Const != "KindBusy" || f.Type != "main.Kind" {
		t.Errorf("Kind %+v", f)
	}
	if f := fields["Name"]; f.Value != "init" || *f.Len != 4 {
		t.Errorf("Name %+v", f)
	}

	threads := evalJSON("main.Instance.Threads")
	if len(threads.Entries) != 2 || *threads.Len != 2 {
		t.Fatalf("map: %+v", threads)
	}
	tags := evalJSON("main.Instance.Tags")
	if len(tags.Children) != 2 || tags.Children[1].Value != "go" || *tags.Cap != 2 {
		t.Errorf("slice: %+v", tags)
	}
	if inf := evalJSON("main.Sample.Inf"); inf.Value != "-Inf" {
		t.Errorf("-Inf: %+v", inf)
	}
	if u := evalJSON("main.Sample.U64"); u.Value != 1.8446744073709552e19 {
		t.Errorf("uint64: %#v", u.Value)
	}
	if bad := evalJSON("*main.Instance.Bad"); bad.Children[0].Unreadable == "" {
		t.Errorf("unreadable field: %+v", bad.Children[0])
	}
}

// TestEvalLive checks that each Eval reads the target anew: a counter it
// keeps incrementing moves between two evaluations.
func TestEvalLive(t *testing.T) {
	ev := sharedEvaluator(t)
	first := mustEval(t, ev, "main.Beat.v", false)
	time.Sleep(20 * time.Millisecond)
	if second := mustEval(t, ev, "main.Beat.v", false); second == first {
		t.Errorf("main.Beat stayed %s: stale read", first)
	}
}

func TestEvalTargetGone(t *testing.T) {
	tg := startTarget(t)
	ev, err := New(tg.exe, tg.memory())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	if _, err := ev.Eval("main.Counter"); err != nil {
		t.Fatal(err)
	}
	tg.cmd.Process.Kill()
	tg.cmd.Wait()
	_, err = ev.Eval("main.Counter")
	if err == nil || !strings.Contains(err.Error(), "process gone") {
		t.Errorf("after the target exited: err %v, want process gone", err)
	}
}

func BenchmarkNew(b *testing.B) {
	tg := startTarget(b)
	for b.Loop() {
		ev, err := New(tg.exe, tg.memory())
		if err != nil {
			b.Fatal(err)
		}
		ev.Close()
	}
}

func BenchmarkEval(b *testing.B) {
	tg := startTarget(b)
	ev, err := New(tg.exe, tg.memory())
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	for b.Loop() {
		if _, err := ev.Eval("*main.Instance"); err != nil {
			b.Fatal(err)
		}
	}
}
