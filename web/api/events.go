package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gomck/gomck/web/source"
)

// Event rates of /api/v1/events (?rate=HZ).
const (
	DefaultRate = 1
	MaxRate     = 10
)

// Event is one SSE event of /api/v1/events ("event: poll").
type Event struct {
	At        time.Time `json:"at"`
	Instances []Summary `json:"instances"`
}

// events streams one event per poll, at most rate a second, as Server-
// Sent Events: the pages' live updates.
func (a *api) events(w http.ResponseWriter, r *http.Request, _ params) error {
	rate := DefaultRate
	if q := r.URL.Query().Get("rate"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > MaxRate {
			return errorf(http.StatusBadRequest, "rate=%q: want events a second, 1 to %d", q, MaxRate)
		}
		rate = v
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return errorf(http.StatusInternalServerError, "the server cannot stream")
	}
	ctx := r.Context()
	every := time.Second / time.Duration(rate)
	if p, ok := a.src.(source.Pacer); ok {
		p.Pace(ctx, every)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var last time.Time
	for id := 1; ; id++ {
		// Read the channel before the instances: a poll in between
		// then wakes the next wait rather than being missed.
		next := a.src.Updates(ctx)
		ev := Event{At: time.Now(), Instances: []Summary{}}
		for _, in := range a.src.Instances() {
			ev.Instances = append(ev.Instances, summarize(in))
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil // the stream has begun: no error answer now
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: poll\ndata: %s\n\n", id, b); err != nil {
			return nil
		}
		fl.Flush()
		last = time.Now()
		select {
		case <-ctx.Done():
			return nil
		case <-next:
		}
		if wait := every - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
}
