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
// kernel state). Each page has its own stream of updates: the same URL
// with ?live=stream is Server-Sent Events, one after each poll of the
// source and at most the page's ?rate= a second (1 to 10), carrying the
// page's live sections (the templates "live-ID", rendered as the page
// renders them) and chart options that changed. A small script
// (assets/dash.js) swaps them in place: one renderer for the first look
// and the updates. The pages do not fetch themselves at each event of
// the API's /api/v1/events, as they first did: at 10 Hz Chromium spent a
// quarter of a CPU on the fetches and their parsing alone, on the Linux
// CPU the offloaded calls need (lwkbench's dash_disturbance_offload).
// A stream paces the source to its rate, as the API's does.

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
