// Command mcdash is the LWK dashboard: live state of the instances read
// from Linux through the inspect layer as mcps reads it (no attach, no
// stop), in a browser, as a JSON API and as Prometheus metrics.
//
//	mcdash [-listen ADDR] [-i N,...] [-refresh DUR] [-token TOKEN | -token-file FILE]
//	       [-allow-eval] [-out DIR] [--dump FILE]
//
// It serves the pages at /, the JSON API at /api/v1/ (package web/api)
// and the metrics at /metrics. It listens on 127.0.0.1:9900 unless told;
// an address other hosts can reach needs a token (package web/server).
// With no instance booted it says so and waits for one; an instance that
// reboots is read anew. --dump FILE shows a dump (ihkosctl N dump, a
// daemon's core) read-only, in the same views.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gomck/gomck/perf/noise"
	"github.com/gomck/gomck/web/api"
	"github.com/gomck/gomck/web/metrics"
	"github.com/gomck/gomck/web/pages"
	"github.com/gomck/gomck/web/server"
	"github.com/gomck/gomck/web/source"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mcdash:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mcdash", flag.ContinueOnError)
	listen := fs.String("listen", server.DefaultListen, "`ADDR` to serve on (host:port; port 0 picks one)")
	instances := fs.String("i", "", "watch instances `N,...` (default: every booted instance)")
	refresh := fs.Duration("refresh", source.DefaultRefresh, "poll the instances every `DUR` (at most 10 Hz)")
	token := fs.String("token", "", "require `TOKEN` of every client (needed for a non-loopback -listen)")
	tokenFile := fs.String("token-file", "", "read the token from the first line of `FILE`")
	allowEval := fs.Bool("allow-eval", false, "serve /api/v1/instances/N/eval?expr=: Go expressions on the kernel's memory")
	outDir := fs.String("out", ".", "`DIR` where the core and dump actions write")
	dump := fs.String("dump", "", "show the dump `FILE` read-only instead of live instances")
	busy := fs.Bool("busy", false, "run at the normal priority, not SCHED_IDLE (which lets the LWK's offloaded calls go first on a shared Linux CPU)")
	offloads := fs.Bool("trace-offloads", false, "time the proxies' offloaded calls in Linux with eBPF (mck_offload_exec_seconds; slows every offloaded call)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	tok := *token
	if *tokenFile != "" {
		if tok != "" {
			return errors.New("give -token or -token-file, not both")
		}
		var err error
		if tok, err = server.ReadToken(*tokenFile); err != nil {
			return err
		}
	}
	if err := server.CheckListen(*listen, tok != ""); err != nil {
		return err
	}
	src, closeSrc, err := openSource(*dump, *instances, *refresh)
	if err != nil {
		return err
	}
	defer closeSrc()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(metrics.NewCollector(src))

	logger := log.New(os.Stderr, "", log.LstdFlags)
	if !*busy {
		if err := idle(); err != nil {
			logger.Printf("mcdash: %v (running at the normal priority)", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	linux := linuxSide(ctx, src, reg, *offloads, logger)
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, api.Handler(src, api.Options{AllowEval: *allowEval, OutDir: *outDir, Noise: runNoise, Log: logger}))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: logger}))
	mux.Handle("/", pages.Handler(src, pages.Options{Linux: linux, Token: tok != ""}))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Printf("mcdash: listening on http://%s/\n", ln.Addr())
	if len(src.Instances()) == 0 {
		fmt.Printf("mcdash: %s: waiting for one\n", source.NotBooted)
	}
	srv := &http.Server{Handler: server.Guard(mux, tok), ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openSource is the dump, or a Poller of the instances asked for.
func openSource(dump, instances string, refresh time.Duration) (source.Source, func(), error) {
	if dump != "" {
		f, err := source.OpenFile(dump)
		return f, func() {}, err
	}
	o := source.Options{Refresh: refresh}
	if instances != "" {
		for _, s := range strings.Split(instances, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 0 {
				return nil, nil, fmt.Errorf("-i %s: %q is not an instance index", instances, s)
			}
			o.Instances = append(o.Instances, n)
		}
	}
	p, err := source.NewPoller(o)
	if err != nil {
		return nil, nil, err
	}
	return p, func() { p.Close() }, nil
}

// runNoise is mcperf noise -i N -d DUR --json (perf/noise's FWQ, whose
// workers mcperf runs as itself), with mcperf beside mcdash or on PATH.
func runNoise(n int, d time.Duration) (*noise.Report, error) {
	mcperf := "mcperf"
	if self, err := os.Executable(); err == nil {
		if beside := filepath.Join(filepath.Dir(self), "mcperf"); exists(beside) {
			mcperf = beside
		}
	}
	cmd := exec.Command(mcperf, "noise", "-i", strconv.Itoa(n), "-d", d.String(), "--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", mcperf, err, strings.TrimSpace(stderr.String()))
	}
	var rep noise.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("%s: its report: %w", mcperf, err)
	}
	return &rep, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
