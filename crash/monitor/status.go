package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gomck/gomck/delegator/control"
)

// StatusWithin bounds how long Status waits for the daemon: ihkosctl N
// status must answer within 2 s even when the daemon is wedged.
const StatusWithin = 1500 * time.Millisecond

// Verdict is an instance's status as ihkosctl N status gives it.
type Verdict struct {
	State string // RUNNING, HUNGUP or PANIC
	// Since is when the monitor gave a HUNGUP or PANIC verdict; zero
	// when the daemon answered itself.
	Since time.Time
	// Reason says why the state is not RUNNING; Dump and Kmsg are the
	// files the monitor wrote for it.
	Reason, Dump, Kmsg string
	// Text is the daemon's own answer, as it prints it, and Daemon the
	// same decoded: empty when it did not answer.
	Text   string
	Daemon *control.Status
}

// Status is instance n's state: the monitor's verdict when it found the
// instance hung or panicked (the daemon would not answer, or is gone),
// else the daemon's own answer, or HUNGUP if it gives none within
// StatusWithin. An instance that is not booted is an error.
func Status(n int) (Verdict, error) {
	if m, err := control.ReadMonitor(n); err == nil && m.State != Running {
		return Verdict{State: m.State, Since: time.Unix(0, m.Since), Reason: m.Reason, Dump: m.Dump, Kmsg: m.Kmsg}, nil
	}
	resp, err := control.QueryWithin(n, control.OpStatus, StatusWithin)
	if errors.Is(err, control.ErrNoAnswer) {
		return Verdict{State: Hungup, Reason: fmt.Sprintf("the daemon did not answer within %v", StatusWithin)}, nil
	}
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{State: Running, Text: resp.Text}
	var st control.Status
	if json.Unmarshal(resp.Data, &st) == nil {
		v.Daemon = &st
		if st.State != "" {
			v.State = st.State
		}
	}
	return v, nil
}
