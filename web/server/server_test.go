package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr  string
		token bool
		ok    bool
	}{
		{"127.0.0.1:9900", false, true},
		{"localhost:0", false, true},
		{"[::1]:9900", false, true},
		{"0.0.0.0:9900", false, false},
		{":9900", false, false},
		{"[::]:9900", false, false},
		{"192.0.2.1:9900", false, false},
		{"0.0.0.0:9900", true, true},
		{"nonsense", true, false},
	} {
		if err := CheckListen(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, token %v) = %v, want ok %v", c.addr, c.token, err, c.ok)
		}
	}
}

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	const tok = "t0k"
	for _, c := range []struct {
		name, token, method, target, remote string
		header                              http.Header
		status                              int
	}{
		{"no token, loopback GET", "", "GET", "/", "127.0.0.1:5", nil, 200},
		{"no token, remote GET", "", "GET", "/", "192.0.2.9:5", nil, 200},
		{"no token, loopback POST", "", "POST", "/a", "127.0.0.1:5", nil, 200},
		{"no token, remote POST", "", "POST", "/a", "192.0.2.9:5", nil, 403},
		{"cross-origin POST", "", "POST", "/a", "127.0.0.1:5", http.Header{"Origin": {"http://evil.example"}}, 403},
		{"same-origin POST", "", "POST", "/a", "127.0.0.1:5", http.Header{"Origin": {"http://example.com"}}, 200},
		{"token missing", tok, "GET", "/", "127.0.0.1:5", nil, 401},
		{"token wrong", tok, "GET", "/", "127.0.0.1:5", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"token as bearer", tok, "GET", "/", "192.0.2.9:5", http.Header{"Authorization": {"Bearer " + tok}}, 200},
		{"token in the query", tok, "GET", "/?token=" + tok, "192.0.2.9:5", nil, 200},
		{"token in the cookie", tok, "POST", "/a", "192.0.2.9:5", http.Header{"Cookie": {CookieName + "=" + tok}}, 200},
	} {
		r := httptest.NewRequest(c.method, "http://example.com"+c.target, nil)
		r.RemoteAddr = c.remote
		for k, v := range c.header {
			r.Header[k] = v
		}
		rec := httptest.NewRecorder()
		Guard(ok, c.token).ServeHTTP(rec, r)
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, rec.Code, c.status, rec.Body)
		}
	}
}
