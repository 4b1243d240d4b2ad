package procview

import (
	"testing"

	"github.com/gomck/gomck/kernel/task"
)

func TestStateLetter(t *testing.T) {
	for _, tc := range []struct {
		state   task.ThreadState
		stopped bool // the process is stopped
		want    byte
	}{
		{task.Runnable, false, 'R'},
		{task.Running, false, 'R'},
		{task.Offload, false, 'S'},
		{task.Sleeping, false, 'S'},
		{task.Zombie, false, 'Z'},
		{task.Stopped, true, 'T'},
		{task.Sleeping, true, 'T'}, // asleep when the stop came
		{task.Offload, true, 'T'},
		{task.Running, true, 'T'}, // not parked yet
		{task.Zombie, true, 'Z'},
	} {
		th := &task.Thread{State: tc.state, Proc: &task.Process{}}
		th.Proc.Stopped.Store(tc.stopped)
		if got := stateLetter(th); got != tc.want {
			t.Errorf("state %d, process stopped %v: %c, want %c", tc.state, tc.stopped, got, tc.want)
		}
	}
}
