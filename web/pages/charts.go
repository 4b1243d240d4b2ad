package pages

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"

	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/web/source"
)

// timelineShown is how many of the Timeline's last polls the CPU
// timeline draws (a cell a poll, at least 5 pixels wide); timelineRow is
// the height of a CPU's row, pixels.
const (
	timelineShown = 150
	timelineRow   = 30
)

// Chart IDs: the page's script finds each chart by them (go-echarts
// names the instance goecharts_ID).
const (
	chartTimeline = "timeline"
	chartRates    = "rates"
	chartOffload  = "offload"
	chartMemory   = "memory"
)

// instanceChartSet is the instance page's charts: each one's element and
// script, the scripts they load, and every chart's option for the page's
// updates.
type instanceChartSet struct {
	HTML    map[string]template.HTML
	Assets  []string
	Options map[string]json.RawMessage
}

// chart is a go-echarts chart the page can draw.
type chart interface {
	render.Renderer
	GetAssets() opts.Assets
}

func instanceCharts(in source.Instance) (instanceChartSet, error) {
	set := instanceChartSet{HTML: map[string]template.HTML{}, Options: map[string]json.RawMessage{}}
	for id, c := range map[string]chart{
		chartTimeline: timelineChart(in.Timeline),
		chartRates:    ratesChart(in),
		chartOffload:  offloadChart(in),
		chartMemory:   memoryChart(in),
	} {
		s := c.RenderSnippet()
		set.HTML[id] = template.HTML(s.Element + s.Script)
		if !json.Valid([]byte(s.Option)) {
			return instanceChartSet{}, fmt.Errorf("chart %s: go-echarts made an option that is not JSON", id)
		}
		set.Options[id] = json.RawMessage(s.Option)
		set.Assets = c.GetAssets().JSAssets.Values
	}
	return set, nil
}

// initialization places a chart: its ID, its size, echarts from the
// binary, and no animation (the charts redraw at every update).
func initialization(id, height string) charts.GlobalOpts {
	return charts.WithInitializationOpts(opts.Initialization{ChartID: id, Width: "900px", Height: height, AssetsHost: AssetsPath})
}

func title(text string) charts.GlobalOpts { return charts.WithTitleOpts(opts.Title{Title: text}) }

var (
	noAnimation = charts.WithAnimation(false)
	tooltip     = charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)})
	legendTop   = charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "25px", Type: "scroll"})
	gridBelow   = charts.WithGridOpts(opts.Grid{Top: "60px", Left: "80px", Right: "30px"})
)

// timelineChart draws which thread each LWK CPU ran at each poll: a row
// of cells per CPU, a series (a colour) per thread, "idle" grey.
func timelineChart(ticks []source.Tick) *charts.Scatter {
	ticks = ticks[max(0, len(ticks)-timelineShown):]
	var at []string
	cpus := map[int]bool{}
	type key struct{ tid, pid int }
	points := map[key][]opts.ScatterData{}
	names := map[key]string{}
	for i, t := range ticks {
		at = append(at, t.At.Format("15:04:05.0"))
		for _, c := range t.CPUs {
			cpus[c.CPU] = true
			k := key{c.TID, c.PID}
			points[k] = append(points[k], opts.ScatterData{Value: []any{i, fmt.Sprintf("cpu %d", c.CPU)}})
			if c.TID == 0 {
				names[k] = "idle"
			} else {
				names[k] = fmt.Sprintf("%s %d/%d", c.Comm, c.PID, c.TID)
			}
		}
	}
	var rows []string
	for _, c := range slices.Sorted(func(yield func(int) bool) {
		for c := range cpus {
			if !yield(c) {
				return
			}
		}
	}) {
		rows = append(rows, fmt.Sprintf("cpu %d", c))
	}
	ch := charts.NewScatter()
	ch.SetGlobalOptions(initialization(chartTimeline, fmt.Sprintf("%dpx", 100+timelineRow*len(rows))), noAnimation, title("CPU timeline"), tooltip, legendTop,
		charts.WithGridOpts(opts.Grid{Top: "60px", Bottom: "40px", Left: "80px", Right: "30px"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category"}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rows}))
	ch.SetXAxis(at)
	// A cell a poll, as wide as the grid (790 pixels) allows.
	width := min(24, max(2, 790/max(1, len(ticks))))
	keys := make([]key, 0, len(points))
	for k := range points {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.pid, b.pid), cmp.Compare(a.tid, b.tid)) })
	for _, k := range keys {
		ch.AddSeries(names[k], points[k], charts.WithSeriesOpts(func(s *charts.SingleSeries) {
			s.Symbol, s.SymbolSize = "rect", []int{width, timelineRow - 4}
			if k.tid == 0 {
				s.ItemStyle = &opts.ItemStyle{Color: "#d0d0d0"}
			}
		}))
	}
	return ch
}

// ratesChart is the calls per second at the last poll, local and
// offloaded: the page appends each update's point to draw the line.
func ratesChart(in source.Instance) *charts.Line {
	ch := charts.NewLine()
	// The axis is a category even while it has no point yet (the
	// first poll after a boot has no rate), as echarts then guesses.
	ch.SetGlobalOptions(initialization(chartRates, "300px"), noAnimation, title("system calls per second"), tooltip, legendTop, gridBelow,
		charts.WithXAxisOpts(opts.XAxis{Type: "category"}), charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "calls/s"}))
	var local, offload []opts.LineData
	var at []string
	if secs := in.Elapsed.Seconds(); secs > 0 {
		at = append(at, in.At.Format("15:04:05.0"))
		local = append(local, opts.LineData{Value: float64(in.Rates.LocalCalls) / secs})
		offload = append(offload, opts.LineData{Value: float64(in.Rates.OffloadCalls) / secs})
	}
	ch.SetXAxis(at).AddSeries("local", local).AddSeries("offloaded", offload)
	return ch
}

// offloadChart is the calls of the syscalls offloaded most.
func offloadChart(in source.Instance) *charts.Bar {
	ch := charts.NewBar()
	ch.SetGlobalOptions(initialization(chartOffload, "300px"), noAnimation, title("top offloaded system calls"), tooltip, gridBelow)
	var names []string
	var calls []opts.BarData
	for _, c := range topOffloaded(in.Totals.Syscalls, topSyscalls) {
		names = append(names, syscallName(c))
		calls = append(calls, opts.BarData{Value: c.Offloaded.Calls})
	}
	ch.SetXAxis(names).AddSeries("calls", calls)
	return ch
}

// memoryChart is each NUMA node's partition memory, used and free, MiB.
func memoryChart(in source.Instance) *charts.Bar {
	ch := charts.NewBar()
	ch.SetGlobalOptions(initialization(chartMemory, "260px"), noAnimation, title("page allocator (MiB)"), tooltip, legendTop, gridBelow)
	var nodes []string
	var used, free []opts.BarData
	if in.Snap != nil {
		mib := func(pages uint64) float64 { return float64(pages*lwkabi.PageSize) / (1 << 20) }
		for _, n := range in.Snap.Alloc.Nodes {
			nodes = append(nodes, fmt.Sprintf("node %d", n.Node))
			used = append(used, opts.BarData{Value: mib(n.Pages - n.Free)})
			free = append(free, opts.BarData{Value: mib(n.Free)})
		}
	}
	stack := charts.WithBarChartOpts(opts.BarChart{Stack: "memory"})
	ch.SetXAxis(nodes).AddSeries("used", used, stack).AddSeries("free", free, stack)
	return ch
}
