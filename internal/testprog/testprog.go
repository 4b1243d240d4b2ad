package testprog

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// cFlags are part of the cache key, so changing them rebuilds everything.
var cFlags = []string{"-O2", "-Wall", "-static"}

var rootOnce = sync.OnceValue(findRoot)

// Root returns the repository root: the directory holding go.mod, found by
// walking up from this source file or, failing that (e.g. -trimpath), from
// the working directory. It returns "" if neither leads to go.mod.
func Root() string { return rootOnce() }

func findRoot() string {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
				return dir
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

func root() (string, error) {
	if r := Root(); r != "" {
		return r, nil
	}
	return "", errors.New("testprog: repository root (directory with go.mod) not found")
}

// validName keeps names from reaching outside the program directories.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("testprog: invalid program name %q", name)
	}
	return nil
}

// gccInfo identifies the compiler and checks that it can link statically.
var gccInfo = sync.OnceValues(func() (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", errors.New("testprog: gcc not found in PATH (install the Debian package gcc)")
	}
	ver, err := exec.Command(gcc, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("testprog: %s --version: %v", gcc, err)
	}
	machine, _ := exec.Command(gcc, "-dumpmachine").Output()
	// Without libc.a gcc prints the bare name back instead of a path.
	libc, err := exec.Command(gcc, "-print-file-name=libc.a").Output()
	libcPath := strings.TrimSpace(string(libc))
	if err != nil || !filepath.IsAbs(libcPath) {
		return "", errors.New("testprog: static glibc (libc.a) not found (install the Debian package libc6-dev)")
	}
	if _, err := os.Stat(libcPath); err != nil {
		return "", fmt.Errorf("testprog: static glibc: %v (install the Debian package libc6-dev)", err)
	}
	first, _, _ := strings.Cut(string(ver), "\n")
	return gcc + "\n" + first + "\n" + strings.TrimSpace(string(machine)), nil
})

// goInfo identifies the go command used for Go programs.
var goInfo = sync.OnceValues(func() (string, error) {
	// go test puts its own toolchain first in PATH, so this is the same go.
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("testprog: go command not found in PATH")
	}
	ver, err := exec.Command(gobin, "env", "GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "GOEXPERIMENT").Output()
	if err != nil {
		return "", fmt.Errorf("testprog: go env: %v", err)
	}
	return gobin + "\n" + string(ver), nil
})

// extraCFlags returns the flags a C source asks for in its leading comment
// lines (blank lines and lines starting with // or /*) with a line
// "// cflags: -fopenmp -pthread". Several such lines add up.
func extraCFlags(src []byte) []string { return directive(src, "cflags:") }

// dynamicOnly reports a C source saying "// link: dynamic" in its leading
// comment: it needs a library Debian ships only shared (libpapi needs
// libpfm, which has no .a), so only CDynamic builds it.
func dynamicOnly(src []byte) bool { return slices.Contains(directive(src, "link:"), "dynamic") }

// directive returns the words of the leading comment lines "// key ...".
func directive(src []byte, key string) []string {
	var words []string
	for line := range strings.Lines(string(src)) {
		line = strings.TrimSpace(line)
		if c, ok := strings.CutPrefix(line, "//"); ok {
			if f, ok := strings.CutPrefix(strings.TrimSpace(c), key); ok {
				words = append(words, strings.Fields(f)...)
			}
		} else if line != "" && !strings.HasPrefix(line, "/*") {
			break
		}
	}
	return words
}

// mpiOnly reports a C source saying "// link: mpi": an MPI program, which
// only MPI builds.
func mpiOnly(src []byte) bool { return slices.Contains(directive(src, "link:"), "mpi") }

// DynamicOnly reports whether the C program name (as C takes it) builds
// only with CDynamic.
func DynamicOnly(name string) bool { return sourceSays(name, dynamicOnly) }

// MPIOnly reports whether the C program name is an MPI program, which
// only MPI builds.
func MPIOnly(name string) bool { return sourceSays(name, mpiOnly) }

// sourceSays reports whether testdata/c/<name>.c satisfies says.
func sourceSays(name string, says func([]byte) bool) bool {
	r, err := root()
	if err != nil {
		return false
	}
	src, err := os.ReadFile(filepath.Join(r, "testdata/c", name+".c"))
	return err == nil && says(src)
}

// C builds testdata/c/<name>.c, or bench/c/<name>.c when testdata has no such
// program, as a static binary and returns its path in the cache. It is safe
// for concurrent use, also from several processes.
func C(name string) (string, error) { return buildC(name, "", false) }

// CDynamic is C for a glibc-dynamic binary (no -static), for tests that run
// the same program both ways; it has a cache entry of its own.
func CDynamic(name string) (string, error) { return buildC(name, "", true) }

// buildC builds a C program with gcc, or with the mpicc of MPI
// implementation mpi (dynamic, as MPI libraries are).
func buildC(name, mpi string, dynamic bool) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	r, err := root()
	if err != nil {
		return "", err
	}
	var src []byte
	var srcPath string
	for _, dir := range []string{"testdata/c", "bench/c"} {
		p := filepath.Join(r, dir, name+".c")
		if src, err = os.ReadFile(p); err == nil {
			srcPath = p
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("testprog: %v", err)
		}
	}
	if srcPath == "" {
		return "", fmt.Errorf("testprog: no C program %q in testdata/c or bench/c", name)
	}
	info, err := gccInfo()
	if mpi != "" {
		info, err = mpiccInfo(mpi)
	}
	if err != nil {
		return "", err
	}
	extra := extraCFlags(src)
	if !dynamic && dynamicOnly(src) {
		return "", fmt.Errorf("testprog: %s links only dynamically: build it with CDynamic", srcPath)
	}
	if mpi == "" && mpiOnly(src) {
		return "", fmt.Errorf("testprog: %s is an MPI program: build it with MPI", srcPath)
	}
	gcc, _, _ := strings.Cut(info, "\n")
	flags, file, check := cFlags, name, checkStatic
	if dynamic {
		flags = slices.DeleteFunc(slices.Clone(cFlags), func(f string) bool { return f == "-static" })
		file, check = name+"-dynamic", checkDynamic
	}
	if mpi != "" {
		file = name + "-" + mpi
	}
	// The headers beside the source ("bench.h") are part of it.
	parts := []string{"c", info, strings.Join(flags, " "), strings.Join(extra, " "), srcPath, string(src)}
	headers, _ := filepath.Glob(filepath.Join(filepath.Dir(srcPath), "*.h"))
	for _, h := range headers {
		b, err := os.ReadFile(h)
		if err != nil {
			return "", fmt.Errorf("testprog: %v", err)
		}
		parts = append(parts, h, string(b))
	}
	key := hashOf(parts...)
	return cached(file, key, check, func(out string) error {
		// The extra flags follow the source so that libraries (-lm) link.
		args := append(append(append([]string{}, flags...), "-o", out, srcPath), extra...)
		cmd := exec.Command(gcc, args...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("testprog: building %s: %v\n%s", srcPath, err, msg)
		}
		return nil
	})
}

// Go builds testdata/go/<name> with CGO_ENABLED=0 as a static binary and
// returns its path in the cache, like C.
func Go(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	r, err := root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r, "testdata", "go", name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("testprog: no Go program %q in testdata/go", name)
	}
	info, err := goInfo()
	if err != nil {
		return "", err
	}
	parts := []string{"go", info, dir}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("testprog: %v", err)
	}
	sort.Strings(files)
	files = append(files, filepath.Join(r, "go.mod"), filepath.Join(r, "go.sum"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("testprog: %v", err)
		}
		parts = append(parts, f, string(b))
	}
	gobin, _, _ := strings.Cut(info, "\n")
	return cached(name, hashOf(parts...), checkStatic, func(out string) error {
		cmd := exec.Command(gobin, "build", "-o", out, "./testdata/go/"+name)
		cmd.Dir = r
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("testprog: building testdata/go/%s: %v\n%s", name, err, msg)
		}
		return nil
	})
}

// MustC is C for tests: it calls tb.Fatal on error.
func MustC(tb testing.TB, name string) string {
	tb.Helper()
	p, err := C(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustCDynamic is CDynamic for tests: it calls tb.Fatal on error.
func MustCDynamic(tb testing.TB, name string) string {
	tb.Helper()
	p, err := CDynamic(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustGo is Go for tests: it calls tb.Fatal on error.
func MustGo(tb testing.TB, name string) string {
	tb.Helper()
	p, err := Go(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Busybox returns the path of a static busybox. Dynamic ones are refused
// because the LWK runs static programs only.
func Busybox() (string, error) {
	var reasons []string
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := checkStatic(p); err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		return p, nil
	}
	msg := "no busybox found"
	if len(reasons) > 0 {
		msg = strings.Join(reasons, "; ")
	}
	return "", fmt.Errorf("testprog: %s (install the Debian package busybox-static)", msg)
}

// checkStatic reports an error unless path is an ELF file without an
// interpreter, i.e. one the kernel (or the LWK) can start by itself.
func checkStatic(path string) error {
	interp, err := hasInterp(path)
	if err == nil && interp {
		err = fmt.Errorf("%s is dynamically linked", path)
	}
	return err
}

// checkDynamic reports an error unless path is an ELF file with an
// interpreter: a build meant to be dynamic that came out static would
// test nothing more than the static one.
func checkDynamic(path string) error {
	interp, err := hasInterp(path)
	if err == nil && !interp {
		err = fmt.Errorf("%s is statically linked", path)
	}
	return err
}

func hasInterp(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("%s: not an ELF file: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length prefixes keep different splits of the same bytes apart.
		fmt.Fprintf(h, "%d:", len(p))
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

type build struct {
	once sync.Once
	path string
	err  error
}

// builds makes parallel tests in one process wait for a single build.
var builds sync.Map // cache file name -> *build

// cached returns the cached binary for name and key, running buildFn to build
// it into a temporary file first if it is missing; check vets the build.
func cached(name, key string, check func(path string) error, buildFn func(out string) error) (string, error) {
	file := name + "-" + key
	v, _ := builds.LoadOrStore(file, new(build))
	b := v.(*build)
	b.once.Do(func() {
		dir, err := cacheDir()
		if err != nil {
			b.err = err
			return
		}
		final := filepath.Join(dir, file)
		if st, err := os.Stat(final); err == nil && st.Mode().IsRegular() && st.Mode()&0o100 != 0 {
			b.path = final
			return
		}
		tmp, err := os.CreateTemp(dir, file+".tmp-*")
		if err != nil {
			b.err = fmt.Errorf("testprog: %v", err)
			return
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		if err := buildFn(tmp.Name()); err != nil {
			b.err = err
			return
		}
		if err := check(tmp.Name()); err != nil {
			b.err = fmt.Errorf("testprog: built %s: %v", name, err)
			return
		}
		if err := os.Chmod(tmp.Name(), 0o755); err != nil {
			b.err = fmt.Errorf("testprog: %v", err)
			return
		}
		// rename is atomic: a concurrent process sees the old state or a
		// complete binary, and identical keys mean identical content.
		if err := os.Rename(tmp.Name(), final); err != nil {
			b.err = fmt.Errorf("testprog: %v", err)
			return
		}
		b.path = final
	})
	return b.path, b.err
}

// cacheDir returns the per-user cache directory. Because it sits in a shared
// temporary directory, it must be ours and not writable by others, or
// another user could plant binaries that the tests would then run.
func cacheDir() (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gomck-testprog-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("testprog: cache: %v", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("testprog: cache: %v", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() || st.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("testprog: cache %s is not a private directory of this user", dir)
	}
	return dir, nil
}
