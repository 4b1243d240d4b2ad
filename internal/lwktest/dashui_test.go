package lwktest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/web/pages/browser"
)

// TestDashboardUI opens mcdash's pages in headless Chromium while a
// program runs on an instance: the overview lists the process, the
// instance page draws its charts and a live value (the instance's system
// call count) changes between two looks, the process page shows its
// threads and takes an app core with its button; a dump of the instance
// shows in the same pages, without the buttons. The instance page's
// screenshot is saved in $GOMCK_ARTIFACTS (or the test's directory).
func TestDashboardUI(t *testing.T) {
	if _, err := browser.Chromium(); err != nil {
		t.Skip(err)
	}
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "256M")
	app := launch(t, in, testprog.MustC(t, "ticker"), "100000", "20")
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	d := startDash(t, in.RunDir)
	base := d.base
	b, err := browser.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)

	if err := b.Open(base + "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText("#procs-0", "ticker", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	took, err := b.FirstRender(base+"/instances/0?rate=10", "rates", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("instance page drawn in %v", took)
	for _, id := range []string{"timeline", "rates", "offload", "memory"} {
		if s, err := b.WaitChart(id, 5*time.Second); err != nil {
			t.Error(err)
		} else if s.Width == 0 || s.Height == 0 {
			t.Errorf("chart %s is %dx%d", id, s.Width, s.Height)
		}
	}
	first, err := b.Text("#syscalls")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText("#offloaded", "write", 5*time.Second); err != nil {
		t.Error(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, err := b.Text("#syscalls")
		if err != nil {
			t.Fatal(err)
		}
		if now != first && now != "" {
			t.Logf("system calls %s, then %s", first, now)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance's system calls stayed %q for 10 s while the ticker runs", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let the rates line grow for the picture
	png, err := b.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("GOMCK_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", shot)

	rows := mcps(t, in)
	pid := 0
	for _, r := range rows {
		if strings.Contains(filepath.Base(r.Exe), "ticker") {
			pid = r.PID
		}
	}
	if pid == 0 {
		t.Fatalf("mcps does not show the ticker: %+v", rows)
	}
	if err := b.Open(base + "/instances/0/processes/" + strconv.Itoa(pid)); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText(".threads", "ticker", 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := b.WaitText(".maps", "[stack]", time.Second); err != nil {
		t.Error(err)
	}
	// The "app core" button posts to the API and shows the file written.
	if _, err := b.Eval(`document.querySelector('[data-post$="/core"]').click(), "clicked"`); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText(".result", "written: ", 60*time.Second); err != nil {
		t.Error(err)
	}
	if err := b.Open(base + "/instances/7"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText("#error", "instance 7", time.Second); err != nil {
		t.Error(err)
	}

	// The same pages on a dump, read-only.
	var dump struct {
		File string `json:"file"`
	}
	if got := d.do("POST", "/api/v1/instances/0/dump", nil, &dump); got != 200 || dump.File == "" {
		t.Fatalf("dump: %d %+v, want 200 and the file", got, dump)
	}
	dd := startDash(t, in.RunDir, "--dump", dump.File)
	if err := b.Open(dd.base + "/"); err != nil {
		t.Fatal(err)
	}
	for sel, text := range map[string]string{"#status-0": "DUMP", "#procs-0": "ticker"} {
		if err := b.WaitText(sel, text, 5*time.Second); err != nil {
			t.Error(err)
		}
	}
	if err := b.Open(dd.base + "/instances/0"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitChart("memory", 5*time.Second); err != nil {
		t.Error(err)
	}
	if n, err := b.Eval(`String(document.querySelectorAll("[data-post]").length)`); err != nil || n != "0" {
		t.Errorf("the dump's instance page has %s buttons (%v), want none", n, err)
	}
}
