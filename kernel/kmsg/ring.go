package kmsg

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Size is the ring's capacity in bytes.
const Size = 256 << 10

// Ring is a kernel message buffer.
type Ring struct {
	mu   sync.Mutex
	Seq  uint64 // odd while a writer is inside
	Head uint64 // bytes written since boot or the last Clear
	Boot int64  // boot time, ns since the epoch; messages are stamped relative to it
	Buf  [Size]byte
}

// New returns an empty ring whose timestamps count from now.
func New() *Ring { return &Ring{Boot: time.Now().UnixNano()} }

// Printf appends one line, stamped like Linux's printk ("[    1.234567] ").
func (r *Ring) Printf(format string, args ...any) {
	d := time.Duration(time.Now().UnixNano() - r.Boot)
	line := fmt.Sprintf("[%5d.%06d] ", int64(d/time.Second), int64(d%time.Second/time.Microsecond)) +
		fmt.Sprintf(format, args...)
	if line[len(line)-1] != '\n' {
		line += "\n"
	}
	r.mu.Lock()
	atomic.AddUint64(&r.Seq, 1)
	for i := 0; i < len(line); i++ {
		r.Buf[(r.Head+uint64(i))%Size] = line[i]
	}
	r.Head += uint64(len(line))
	atomic.AddUint64(&r.Seq, 1)
	r.mu.Unlock()
}

// String returns the current contents, oldest first; when the ring has
// wrapped, the partial first line is dropped.
func (r *Ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Decode(r.Buf[:], r.Head)
}

// Clear empties the ring (ihkosctl clear_kmsg).
func (r *Ring) Clear() {
	r.mu.Lock()
	atomic.AddUint64(&r.Seq, 1)
	r.Head = 0
	atomic.AddUint64(&r.Seq, 1)
	r.mu.Unlock()
}

// Decode turns a ring's bytes and head into text; readers of dumps use it too.
func Decode(buf []byte, head uint64) string {
	n := uint64(len(buf))
	if head <= n {
		return string(buf[:head])
	}
	out := make([]byte, 0, n)
	start := head % n
	out = append(out, buf[start:]...)
	out = append(out, buf[:start]...)
	for i, c := range out {
		if c == '\n' {
			return string(out[i+1:])
		}
	}
	return string(out)
}
