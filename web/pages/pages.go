package pages

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gomck/gomck/web/source"
)

// Options are what the pages offer besides the source's state.
type Options struct {
	// Linux is the eBPF collectors' view; nil when mcdash runs without
	// them, and the pages leave their tables out.
	Linux source.Linux
	// Token says the API wants a bearer token: the pages send the one
	// the page was opened with (?token=) with their requests.
	Token bool
	// ReadOnly hides the buttons that act (cores, dumps, noise runs), as
	// does a read-only source.
	ReadOnly bool
}

// MaxRate is the highest refresh rate a page may ask for (?rate=), per
// second, as the API's event stream allows.
const MaxRate = 10

//go:embed assets
var assetFiles embed.FS

//go:embed templates/*.html
var templateFiles embed.FS

// AssetsPath is where the handler serves its scripts and styles, and
// go-echarts' asset host: the charts load echarts from the binary.
const AssetsPath = "/assets/"

type handler struct {
	src   source.Source
	opts  Options
	pages map[string]*template.Template
	// live are each page's live sections (templates "live-ID", shown
	// in <section data-live id="ID">), which its stream updates.
	live map[string][]string
}

// Handler serves the dashboard's pages for src: "/" (every instance),
// "/instances/N" and "/instances/N/processes/PID", and their scripts
// under AssetsPath. Anything else is an HTML 404. A page's URL with
// ?live=stream is its stream of updates (Server-Sent Events).
func Handler(src source.Source, opts Options) http.Handler {
	h := &handler{src: src, opts: opts, live: map[string][]string{}}
	h.parseTemplates()
	assets, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+AssetsPath, http.StripPrefix(AssetsPath, http.FileServerFS(assets)))
	mux.HandleFunc("GET /{$}", h.serve("overview", h.overview))
	mux.HandleFunc("GET /instances/{n}", h.serve("instance", h.instance))
	mux.HandleFunc("GET /instances/{n}/processes/{pid}", h.serve("process", h.process))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, http.StatusNotFound, fmt.Sprintf("no page %s", r.URL.Path))
	})
	return mux
}

// parseTemplates makes one template set per page, each the layout with
// that page's content, and finds each page's live sections.
func (h *handler) parseTemplates() {
	funcs := template.FuncMap{"size": formatSize, "duration": formatNs, "signals": signalNames, "hex": hex}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	h.pages = map[string]*template.Template{}
	for _, name := range []string{"overview", "instance", "process", "error"} {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
		h.pages[name] = t
		for _, sub := range t.Templates() {
			if id, ok := strings.CutPrefix(sub.Name(), "live-"); ok {
				h.live[name] = append(h.live[name], id)
			}
		}
	}
}

// page is what the layout shows around every page's content.
type page struct {
	Title    string
	Rate     int
	Token    bool
	Actions  bool // the buttons that act are shown
	JSAssets []string
	Instance int // -1 off an instance's pages
	Content  any
	// Charts are the charts' options by chart ID, for the updates.
	Charts map[string]json.RawMessage
}

// httpError is a page that cannot be shown, with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// builder makes a page of the source's latest state for r.
type builder func(r *http.Request) (page, *httpError)

// serve answers a page: the HTML, or with ?live=stream its updates.
func (h *handler) serve(name string, build builder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rate, err := refreshRate(r)
		if err != nil {
			h.fail(w, http.StatusBadRequest, err.Error())
			return
		}
		p, herr := build(r)
		if herr != nil {
			h.fail(w, herr.status, herr.msg)
			return
		}
		switch live := r.URL.Query().Get("live"); live {
		case "":
			p.Rate = rate
			h.render(w, http.StatusOK, name, p)
		case "stream":
			h.stream(w, r, name, build, rate)
		default:
			h.fail(w, http.StatusBadRequest, fmt.Sprintf("live=%q: the only value is stream", live))
		}
	}
}

func (h *handler) render(w http.ResponseWriter, status int, name string, p page) {
	p.Token = h.opts.Token
	p.Actions = h.actions()
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, "layout.html", p); err != nil {
		http.Error(w, "rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *handler) actions() bool { return !h.opts.ReadOnly && !h.src.ReadOnly() }

// fail answers with the error page.
func (h *handler) fail(w http.ResponseWriter, status int, msg string) {
	h.render(w, status, "error", page{Title: http.StatusText(status), Rate: 1, Instance: -1,
		Content: struct {
			Status int
			Text   string
		}{status, msg}})
}

// update is one event of a page's stream: the live sections and chart
// options that changed since the last, or why the page is gone.
type update struct {
	Sections map[string]string          `json:"sections,omitempty"`
	Charts   map[string]json.RawMessage `json:"charts,omitempty"`
	Gone     string                     `json:"gone,omitempty"`
}

// stream sends the page's updates after each poll of the source, at
// most rate a second, until the client leaves or the page is gone (an
// instance no longer watched, a process that ended). One stream, rather
// than a fetch of the page per event, is what keeps a browser at 10 Hz
// light: Chromium spends ~10 ms of CPU on each fetch and as much again
// parsing a page, on the Linux CPUs the offloaded calls need.
func (h *handler) stream(w http.ResponseWriter, r *http.Request, name string, build builder, rate int) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "the server cannot stream", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	every := time.Second / time.Duration(rate)
	if p, ok := h.src.(source.Pacer); ok {
		p.Pace(ctx, every)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sent := map[string]string{}
	for {
		// The channel before the state: a poll in between wakes the
		// wait below rather than being missed.
		next := h.src.Updates(ctx)
		at := time.Now()
		u := h.changes(name, build, r, sent)
		b, err := json.Marshal(u)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		if u.Gone != "" {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at.Add(every))):
		}
	}
}

// changes builds the page and keeps what differs from sent, updating it.
func (h *handler) changes(name string, build builder, r *http.Request, sent map[string]string) update {
	p, herr := build(r)
	if herr != nil {
		return update{Gone: herr.msg}
	}
	p.Actions = h.actions()
	u := update{Sections: map[string]string{}, Charts: map[string]json.RawMessage{}}
	for _, id := range h.live[name] {
		var b strings.Builder
		if err := h.pages[name].ExecuteTemplate(&b, "live-"+id, p); err != nil {
			return update{Gone: fmt.Sprintf("rendering %s: %v", id, err)}
		}
		if s := b.String(); sent["section "+id] != s {
			u.Sections[id], sent["section "+id] = s, s
		}
	}
	for id, opt := range p.Charts {
		if s := string(opt); sent["chart "+id] != s {
			u.Charts[id], sent["chart "+id] = opt, s
		}
	}
	return u
}

// refreshRate is the page's ?rate=, updates per second: 1 when absent.
func refreshRate(r *http.Request) (int, error) {
	q := r.URL.Query().Get("rate")
	if q == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > MaxRate {
		return 1, fmt.Errorf("rate=%q: want updates per second, 1 to %d", q, MaxRate)
	}
	return n, nil
}

// pathInt reads the path value name as a non-negative number.
func pathInt(r *http.Request, name string) (int, error) {
	s := r.PathValue(name)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	return n, nil
}

// lookup finds the instance of the request's {n}.
func (h *handler) lookup(r *http.Request) (source.Instance, *httpError) {
	n, err := pathInt(r, "n")
	if err != nil {
		return source.Instance{}, &httpError{http.StatusNotFound, "no instance: " + err.Error()}
	}
	in, ok := h.src.Instance(n)
	if !ok {
		return source.Instance{}, &httpError{http.StatusNotFound, fmt.Sprintf("instance %d is not watched", n)}
	}
	return in, nil
}

func (h *handler) overview(*http.Request) (page, *httpError) {
	return page{Title: "LWK instances", Instance: -1, Content: overviewOf(h.src.Instances())}, nil
}

func (h *handler) instance(r *http.Request) (page, *httpError) {
	in, herr := h.lookup(r)
	if herr != nil {
		return page{}, herr
	}
	v := instanceViewOf(in, h.opts.Linux)
	charts, err := instanceCharts(in)
	if err != nil {
		return page{}, &httpError{http.StatusInternalServerError, err.Error()}
	}
	v.Charts = charts.HTML
	return page{Title: fmt.Sprintf("mcos%d", in.Index), Instance: in.Index, Content: v, JSAssets: charts.Assets, Charts: charts.Options}, nil
}

func (h *handler) process(r *http.Request) (page, *httpError) {
	in, herr := h.lookup(r)
	if herr != nil {
		return page{}, herr
	}
	pid, err := pathInt(r, "pid")
	if err != nil {
		return page{}, &httpError{http.StatusNotFound, "no process: " + err.Error()}
	}
	v, err := processViewOf(in, pid)
	if err != nil {
		return page{}, &httpError{http.StatusNotFound, err.Error()}
	}
	return page{Title: fmt.Sprintf("mcos%d pid %d", in.Index, pid), Instance: in.Index, Content: v}, nil
}
