// Package server is the dashboard's guard: who may reach mcdash's pages,
// API and metrics. It is loopback by default; a listen address others
// can reach needs a token (CheckListen), and with a token every request
// must carry it, as "Authorization: Bearer TOKEN" or once as ?token=TOKEN,
// which sets an HttpOnly cookie so that a browser keeps it (Guard).
// Actions (POST) are refused from another host without a token, and
// from a page of another origin always, so that a web page a user opens
// cannot make their dashboard write cores. Tokens are compared in
// constant time. The standard library is enough for this.
package server
