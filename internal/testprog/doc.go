// Package testprog builds the C and Go programs in testdata/ and bench/c for
// tests and benchmarks, caching the results.
//
// C programs are self-contained files testdata/c/<name>.c or
// bench/c/<name>.c, compiled with `gcc -O2 -Wall -static` against glibc; a
// program needing more flags names them in a leading comment line such as
// `// cflags: -fopenmp`, and they join the cache key. CDynamic builds the same
// source without -static, against the shared glibc, under a cache entry of
// its own, for tests that run one program both ways. Go
// programs are directories testdata/go/<name>, built with CGO_ENABLED=0 so
// that they are static; they may use the standard library and the module's
// dependencies, but not other packages of this module, because the cache key
// covers only their own directory, go.mod and go.sum.
//
// Binaries are cached in os.TempDir()/gomck-testprog-<uid>/ under a name
// that includes a hash of the sources and the compiler version, so a cache
// hit never returns a stale binary, and parallel test processes can share the
// cache: every build writes a temporary file and renames it into place.
package testprog
