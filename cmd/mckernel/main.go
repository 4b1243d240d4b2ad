// Command mckernel is the LWK daemon of one OS instance. It is started by
// mcreboot, not by hand:
//
//	mckernel -index N -cpus LIST -mem SPEC [-O] [-T 0|1] [-d LEVEL] [-k 0|1] [-owner UID:GID]
//
// It reports boot success or the boot error on descriptor 3 when that is a
// pipe (mcreboot waits on it), then serves its control socket until shut
// down. Built with DWARF so that mcinspect can read its state.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/crash/capture"
	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel"
	"github.com/gomck/gomck/kernel/platform/ptrace"
)

func main() {
	var (
		index  = flag.Int("index", 0, "OS instance number")
		cpus   = flag.String("cpus", "", "host CPUs of the LWK")
		mem    = flag.String("mem", "", "memory, SIZE[@NODE][,SIZE@NODE...]")
		over   = flag.Bool("O", false, "allow oversubscription")
		share  = flag.Int("T", 1, "time sharing: 1 preempts a thread after a time slice when others wait")
		level  = flag.Int("d", 24, "dump level")
		kmsgOn = flag.Int("k", 1, "keep kernel messages")
		owner  = flag.String("owner", "", "UID:GID owning the control socket")
	)
	flag.Parse()
	ready := os.NewFile(3, "ready")
	report := func(err error) {
		if ready != nil {
			if err != nil {
				fmt.Fprintln(ready, err)
			} else {
				fmt.Fprintln(ready, "ok")
			}
			ready.Close()
			ready = nil
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "mckernel:", err)
			os.Exit(1)
		}
	}
	cfg := kernel.Config{Index: *index, Oversubscribe: *over, TimeSharing: *share != 0, DumpLevel: *level, Kmsg: *kmsgOn != 0, OwnerUID: -1, OwnerGID: -1}
	var err error
	if cfg.CPUs, err = partition.ParseCPUList(*cpus); err != nil {
		report(err)
	}
	if cfg.Mem, err = partition.ParseMemSpec(*mem); err != nil {
		report(err)
	}
	if *owner != "" {
		fmt.Sscanf(*owner, "%d:%d", &cfg.OwnerUID, &cfg.OwnerGID)
	}
	k, err := kernel.Boot(cfg, ptrace.New, kernel.Hooks{Panic: logPanic})
	if err != nil {
		report(err)
	}
	l, err := control.Listen(cfg.Index, cfg.OwnerUID, cfg.OwnerGID)
	if err != nil {
		k.Shutdown()
		report(err)
	}
	os.WriteFile(control.PidPath(cfg.Index), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	b, _ := json.Marshal(cfg)
	os.WriteFile(control.ConfigPath(cfg.Index), b, 0o644)
	report(nil)

	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM, unix.SIGINT)
	go func() {
		<-term
		control.Query(cfg.Index, control.OpShutdown)
	}()
	if path := os.Getenv("GOMCK_CPUPROFILE"); path != "" {
		// For performance work on the daemon: profile until shutdown.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	k.Serve(l)
	os.Remove(control.PidPath(cfg.Index))
	os.Remove(control.ConfigPath(cfg.Index))
	os.Remove(control.HeartbeatPath(cfg.Index))
}

// logPanic writes a kernel panic and the kmsg ring to the daemon's log
// (mcreboot's mcos<N>.log), and a dump of the daemon at the panic into
// $GOMCK_DUMPDIR (default /var/crash/gomck): the state dies with the
// daemon. The dump reads the daemon from outside its goroutines, as
// ihkosctl dump does, while the panicking CPU waits.
func logPanic(k *kernel.OS, reason string, stack []byte) string {
	fmt.Fprintf(os.Stderr, "mckernel: kernel panic: %s\n%s\nkmsg:\n%s", reason, stack, k.Kmsg.String())
	dir := capture.DumpDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "mckernel: no dump: %v\n", err)
		return ""
	}
	n := k.Config.Index
	res, err := capture.Capture(capture.Options{Instance: n, Level: dumpfile.Level24,
		Path: filepath.Join(dir, capture.DefaultPath(n, time.Now())), Reason: "panic: " + reason})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mckernel: no dump: %v\n", err)
		return ""
	}
	fmt.Fprintf(os.Stderr, "mckernel: dumped to %s (%d bytes)\n", res.Path, res.Size)
	return res.Path
}
