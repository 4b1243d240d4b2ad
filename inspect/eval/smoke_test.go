package eval

import "testing"

func TestSmoke(t *testing.T) {
	tg := startTarget(t)
	ev, err := New(tg.exe, tg.memory())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []string{"main.Instance", "*main.Instance", "main.Instance.CPUs[1].Current.TID", "len(main.Instance.CPUs)", "main.Instance.Threads", "main.Instance.Bad", "*main.Instance.Bad", "main.Counter", "main.Instance.Kmsg", "string(main.Instance.Kmsg)", "main.Counter + 2", "main.Instance.Any", "main.Instance.Alloc.Free > 3", "main.Instance.(", "nosuch.X", "main.Nope", "Instance", "runtime.buildVersion", "main.Instance.Nil == nil", "true", "Counter", "main.Instance.CPUs[1:]", "main.Instance.Threads[202]", "(*main.Thread)(main.Instance.CPUs[1].Current).Name", "uint8(main.Counter)", "main.Instance.Name[1:3]", "&main.Instance.CPUs[0]", "main.KindBusy", "main.Instance.Alloc.Ratio * 3"} {
		r, err := ev.Eval(x)
		if err != nil {
			t.Logf("%s: error %v", x, err)
			continue
		}
		t.Logf("%s = %s\n%s", x, r, r.Format(true))
	}
}
