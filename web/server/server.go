package server

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gomck/gomck/web/api"
)

// DefaultListen is where mcdash listens unless told: loopback only.
const DefaultListen = "127.0.0.1:9900"

// CookieName is the cookie that carries the token once a browser gave it.
const CookieName = "mcdash_token"

// CheckListen refuses an address reachable from other hosts without a
// token.
func CheckListen(addr string, token bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", addr, err)
	}
	if token || loopbackHost(host) {
		return nil
	}
	return fmt.Errorf("-listen %s: an address other hosts can reach needs -token TOKEN or -token-file FILE", addr)
}

// loopbackHost says every address host names is a loopback one.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReadToken reads a token file: its first line, which must not be empty.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("-token-file: %w", err)
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	if tok = strings.TrimSpace(tok); tok == "" {
		return "", fmt.Errorf("-token-file %s: the first line is empty", path)
	}
	return tok, nil
}

// Guard lets a request through to h when it may: with a token set, one
// that carries it; without, any GET, and a POST from this host. A POST
// from a page of another origin is refused either way.
func Guard(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			ok, fromQuery := carries(r, token)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mcdash"`)
				api.WriteError(w, http.StatusUnauthorized, "this dashboard needs its token: Authorization: Bearer TOKEN, or ?token=TOKEN")
				return
			}
			if fromQuery {
				http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) {
				api.WriteError(w, http.StatusForbidden, "actions are taken from the dashboard's own pages only")
				return
			}
			if token == "" && !fromLoopback(r) {
				api.WriteError(w, http.StatusForbidden, "actions from another host need mcdash to run with -token")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// carries says r carries token, and whether as ?token= (to be kept in a
// cookie from then on).
func carries(r *http.Request, token string) (ok, fromQuery bool) {
	if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && equal(v, token) {
		return true, false
	}
	if c, err := r.Cookie(CookieName); err == nil && equal(c.Value, token) {
		return true, false
	}
	if v := r.URL.Query().Get("token"); v != "" && equal(v, token) {
		return true, true
	}
	return false, false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// fromLoopback says the client connected from this host.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin says a browser's request comes from a page of this server
// (a client that is no browser sends no Origin).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
