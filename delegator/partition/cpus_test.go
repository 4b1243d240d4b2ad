package partition

import (
	"strings"
	"testing"
)

func TestValidateCPUs(t *testing.T) {
	tests := []struct {
		online  string
		cpus    []int
		wantErr string
	}{
		{online: "0-1", cpus: []int{1}},
		{online: "0-3", cpus: []int{1, 2, 3}},
		{online: "0,2-3", cpus: []int{2, 3}},
		{online: "0-1", cpus: []int{7}, wantErr: "CPU 7 is not online (online: 0-1)"},
		{online: "0,2-3", cpus: []int{1}, wantErr: "CPU 1 is not online (online: 0,2-3)"},
		{online: "0-1", cpus: []int{-1}, wantErr: "CPU -1 is not online"},
		{online: "0-1", cpus: []int{0, 1}, wantErr: "leave no CPU for Linux"},
		{online: "0-1", cpus: []int{1, 0, 1}, wantErr: "leave no CPU for Linux"},
		{online: "0", cpus: []int{0}, wantErr: "leave no CPU for Linux"},
		{online: "0-1", cpus: nil, wantErr: "no CPUs"},
	}
	for _, tt := range tests {
		fakeCPUs(t, tt.online)
		err := ValidateCPUs(tt.cpus)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("online %s: ValidateCPUs(%v) = %v", tt.online, tt.cpus, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("online %s: ValidateCPUs(%v) = %v; want error containing %q", tt.online, tt.cpus, err, tt.wantErr)
		}
	}
}

// The real machine must at least parse.
func TestOnlineCPUsHost(t *testing.T) {
	cpus, err := OnlineCPUs()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("OnlineCPUs() = %v, %v", cpus, err)
	}
}
