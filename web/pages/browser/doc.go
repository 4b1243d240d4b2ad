// Package browser drives a headless Chromium on mcdash's pages, for the
// tests that check what a person sees (internal/lwktest) and for
// lwkbench's dashboard figures: open a page, wait for its charts to draw,
// read a value, take a screenshot.
//
// It uses github.com/chromedp/chromedp, which speaks the DevTools
// protocol to the Chromium it starts: no WebDriver server, nothing but
// Debian's chromium package (scripts/deps.sh). Chromium runs headless
// and, as the tests run as root, with --no-sandbox.
package browser
