package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium with one tab.
type Browser struct {
	ctx    context.Context
	cancel func()
}

// Chromium is the path of the Chromium to run: Debian's chromium, or
// what else is installed under a usual name.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (scripts/deps.sh installs Debian's)")
}

// Start starts a headless Chromium with a 1280x1400 window; in the
// background, it runs under SCHED_IDLE (chrt -i 0), only when the Linux
// CPUs have nothing else to run, as a browser on a compute node should
// beside the LWK's offload proxies.
func Start(background bool) (*Browser, error) {
	path, err := Chromium()
	if err != nil {
		return nil, err
	}
	var wrapDir string
	if background {
		// chrt(1) runs Chromium: the allocator gives its flags to the
		// program it starts, which must then be a script.
		if wrapDir, err = os.MkdirTemp("", "gomck-chromium-"); err != nil {
			return nil, err
		}
		wrap := filepath.Join(wrapDir, "chromium")
		script := fmt.Sprintf("#!/bin/sh\nexec chrt -i 0 %s \"$@\"\n", path)
		if err := os.WriteFile(wrap, []byte(script), 0o755); err != nil {
			os.RemoveAll(wrapDir)
			return nil, err
		}
		path = wrap
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 1400))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &Browser{ctx: ctx, cancel: func() {
		cancelTab()
		cancelAlloc()
		if wrapDir != "" {
			os.RemoveAll(wrapDir)
		}
	}}
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	return b, nil
}

// Close stops Chromium.
func (b *Browser) Close() { b.cancel() }

// Open loads url and waits for the page's load event.
func (b *Browser) Open(url string) error {
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("opening %s: %w", url, err)
	}
	return nil
}

// Eval evaluates the JavaScript expression expr, a string, in the page.
func (b *Browser) Eval(expr string) (string, error) {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return "", fmt.Errorf("evaluating %s: %w", expr, err)
	}
	return s, nil
}

// Text is the text of the first element sel selects (a CSS selector),
// without waiting.
func (b *Browser) Text(sel string) (string, error) {
	return b.Eval(fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ""`, strconv.Quote(sel)))
}

// WaitText waits until the element sel selects contains text.
func (b *Browser) WaitText(sel, text string, timeout time.Duration) error {
	js := fmt.Sprintf(`((document.querySelector(%s) || {}).textContent || "").includes(%s)`, strconv.Quote(sel), strconv.Quote(text))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		got, _ := b.Text(sel)
		return fmt.Errorf("waiting for %q in %s (has %q): %w", text, sel, got, err)
	}
	return nil
}

// Size is an element's size in CSS pixels.
type Size struct{ Width, Height int }

// WaitChart waits until the echarts chart of element id has drawn: its
// canvas is there with a non-zero size. It returns that size.
func (b *Browser) WaitChart(id string, timeout time.Duration) (Size, error) {
	js := fmt.Sprintf(`(() => {
		const c = document.querySelector("#" + %s + " canvas");
		return c && c.width > 0 && c.height > 0 ? {Width: c.clientWidth, Height: c.clientHeight} : null;
	})()`, strconv.Quote(id))
	s, err := chromedp.Run(b.ctx, chromedp.Poll[Size](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		return Size{}, fmt.Errorf("waiting for chart %s to draw: %w", id, err)
	}
	return s, nil
}

// FirstRender opens url and times it until chart id has drawn.
func (b *Browser) FirstRender(url, id string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := chromedp.Run(b.ctx, chromedp.Navigate(url)); err != nil {
		return 0, fmt.Errorf("opening %s: %w", url, err)
	}
	if _, err := b.WaitChart(id, timeout); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Screenshot is a PNG of the whole page.
func (b *Browser) Screenshot() ([]byte, error) {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return png, nil
}
