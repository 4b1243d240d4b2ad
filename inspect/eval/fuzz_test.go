package eval

import "testing"

// FuzzEval feeds arbitrary expressions to an evaluator on a live target:
// whatever the expression, Eval returns a value or an error, never panics.
func FuzzEval(f *testing.F) {
	for _, c := range evalCases {
		f.Add(c.expr)
	}
	for _, seed := range []string{
		"", "(", "main.", "*main.Instance.Bad", "*(*int)(8)", "main.Instance.CPUs[-1]",
		"main.Instance.Kmsg[2:1]", "*(*[1<<40]byte)(main.Instance)", "main.hook()",
		"main.Instance.Any.(int)", "&main.Instance.CPUs", "[]int{1}", "map[int]int{}",
		"runtime.allgs", "runtime.g0", "(*main.Kernel)(0)", "*(*string)(main.Instance.Alloc)",
		"main.Instance.Threads[999]", "len(main.Instance.Threads[101].Name) / 0",
	} {
		f.Add(seed)
	}
	tg := startTarget(f)
	ev, err := New(tg.exe, tg.memory())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ev.Close() })
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := ev.Eval(expr)
		if err != nil {
			return
		}
		_ = r.String()
		_ = r.Format(true)
		if _, err := r.MarshalJSON(); err != nil {
			t.Errorf("%q: MarshalJSON: %v", expr, err)
		}
	})
}
