// Package pages is mcdash's web pages: an overview of every LWK instance,
// an instance's page (CPU timeline, system call rates local and
// offloaded, the top offloaded calls with Linux's time executing them,
// CPU interference, the page allocator, an OS noise run) and a process's
// (its threads as mcps prints them, its VMAs as mcinspect --maps, its
// per-syscall profile, pending signals, buttons for an app core and an
// instance dump). Handler serves them for a web/source.Source; the JSON
// API (web/api) serves the same state and the actions the buttons post.
//
// The pages are rendered on the server with html/template, from the
// source's state and inspect/report's formatting (no second reader of
// kernel state). A small script (assets/dash.js) listens to the API's
// event stream (/api/v1/events, at the page's ?rate=, 1 to 10 per
// second) and, at each event, fetches the page again and swaps its live
// sections and its charts' options in place: one renderer for the first
// look and the updates. Without the stream it refreshes at its rate
// anyway, so a page shows "no LWK instance is booted" and keeps looking.
//
// Charts are github.com/go-echarts/go-echarts/v2: it writes echarts
// options from Go types, so the charts are built from the same values
// as the tables, and it takes an asset host, set to AssetsPath so
// nothing is loaded from a CDN. The CPU timeline draws the last 150
// polls of the source's Timeline.
//
// assets/echarts.min.js is Apache ECharts 5.6.0 (dist/echarts.min.js of
// the npm registry's echarts-5.6.0.tgz, `npm pack echarts@5`), licensed
// Apache-2.0: assets/LICENSE and assets/NOTICE are that package's.
package pages
