package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"

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
}

// Handler serves the dashboard's pages for src: "/" (every instance),
// "/instances/N" and "/instances/N/processes/PID", and their scripts
// under AssetsPath. Anything else is an HTML 404.
func Handler(src source.Source, opts Options) http.Handler {
	h := &handler{src: src, opts: opts, pages: parseTemplates()}
	assets, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+AssetsPath, http.StripPrefix(AssetsPath, http.FileServerFS(assets)))
	mux.HandleFunc("GET /{$}", h.overview)
	mux.HandleFunc("GET /instances/{n}", h.instance)
	mux.HandleFunc("GET /instances/{n}/processes/{pid}", h.process)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("no page %s", r.URL.Path))
	})
	return mux
}

// parseTemplates makes one template set per page, each the layout with
// that page's content.
func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{"size": formatSize, "duration": formatNs, "signals": signalNames, "hex": hex}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "instance", "process", "error"} {
		t := template.Must(base.Clone())
		pages[name] = template.Must(t.ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

// page is what the layout shows around every page's content.
type page struct {
	Title     string
	Rate      int
	Token     bool
	Actions   bool // the buttons that act are shown
	JSAssets  []string
	Instance  int // -1 off an instance's pages
	Content   any
	ChartData template.JS // the charts' options, for the live refresh
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	rate, err := refreshRate(r)
	if err != nil && status == http.StatusOK {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p.Rate = rate
	p.Token = h.opts.Token
	p.Actions = !h.opts.ReadOnly && !h.src.ReadOnly()
	if p.ChartData == "" {
		p.ChartData = "{}"
	}
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

// fail answers with the error page.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Instance: -1,
		Content: struct {
			Status int
			Text   string
		}{status, msg}})
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

// lookup finds the instance of the request's {n}, or answers 404.
func (h *handler) lookup(w http.ResponseWriter, r *http.Request) (source.Instance, bool) {
	n, err := pathInt(r, "n")
	if err != nil {
		h.fail(w, r, http.StatusNotFound, "no instance: "+err.Error())
		return source.Instance{}, false
	}
	in, ok := h.src.Instance(n)
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("instance %d is not watched", n))
		return source.Instance{}, false
	}
	return in, true
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "overview", page{Title: "LWK instances", Instance: -1, Content: overviewOf(h.src.Instances())})
}

func (h *handler) instance(w http.ResponseWriter, r *http.Request) {
	in, ok := h.lookup(w, r)
	if !ok {
		return
	}
	v := instanceViewOf(in, h.opts.Linux)
	charts, err := instanceCharts(in)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	v.Charts = charts.HTML
	h.render(w, r, http.StatusOK, "instance", page{Title: fmt.Sprintf("mcos%d", in.Index), Instance: in.Index,
		Content: v, JSAssets: charts.Assets, ChartData: charts.Data})
}

func (h *handler) process(w http.ResponseWriter, r *http.Request) {
	in, ok := h.lookup(w, r)
	if !ok {
		return
	}
	pid, err := pathInt(r, "pid")
	if err != nil {
		h.fail(w, r, http.StatusNotFound, "no process: "+err.Error())
		return
	}
	v, err := processViewOf(in, pid)
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	h.render(w, r, http.StatusOK, "process", page{Title: fmt.Sprintf("mcos%d pid %d", in.Index, pid), Instance: in.Index, Content: v})
}
