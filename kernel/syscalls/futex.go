package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/sched"
)

func init() {
	register(sysFutex, unix.SYS_FUTEX)
}

const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivate       = 128
	futexClockRealtime = 256
	futexBitsetAll     = 0xffffffff
)

// futexKey is the futex word (its key the same in every process sharing
// its memory) and its value now.
func futexKey(c *Call, uaddr uint64) (w mm.FutexWord, val uint32, r int64) {
	w, val, err := c.T.Proc.MM.Word(uaddr)
	if err == unix.EINVAL {
		return w, 0, -int64(unix.EINVAL)
	}
	if err != nil {
		return w, 0, -int64(unix.EFAULT)
	}
	return w, val, 0
}

func loadUint32(c *Call, uaddr uint64) (uint32, bool) {
	var b [4]byte
	if copyIn(c, uaddr, b[:]) < 0 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[:]), true
}

func sysFutex(c *Call) int64 {
	uaddr, op, val, timeout, uaddr2, val3 := c.Args[0], int(c.Args[1]), uint32(c.Args[2]), c.Args[3], c.Args[4], uint32(c.Args[5])
	cmd := op &^ (futexPrivate | futexClockRealtime)
	word, cur, r := futexKey(c, uaddr)
	key := word.Key
	if r < 0 {
		return r
	}
	k := c.Env.Kernel
	switch cmd {
	case futexWait, futexWaitBitset:
		bits := uint32(futexBitsetAll)
		if cmd == futexWaitBitset {
			if bits = val3; bits == 0 {
				return -int64(unix.EINVAL)
			}
		}
		deadline, r := futexDeadline(c, timeout, cmd == futexWaitBitset, op&futexClockRealtime != 0)
		if r < 0 {
			return r
		}
		if cur != val {
			return -int64(unix.EAGAIN) // changed already: no need to sleep
		}
		k.Sleep(c.T, deadline, -int64(unix.ETIMEDOUT))
		if !k.FutexWait(c.T, word, bits, val) {
			k.Cancel(c.T)
			return -int64(unix.EAGAIN)
		}
		c.Action = Block
		return 0
	case futexWake, futexWakeBitset:
		bits := uint32(futexBitsetAll)
		if cmd == futexWakeBitset {
			if bits = val3; bits == 0 {
				return -int64(unix.EINVAL)
			}
		}
		return int64(k.FutexWake(key, int(val), bits))
	case futexRequeue, futexCmpRequeue:
		if cmd == futexCmpRequeue && cur != val3 {
			return -int64(unix.EAGAIN)
		}
		word2, _, r := futexKey(c, uaddr2)
		if r < 0 {
			return r
		}
		return int64(k.FutexRequeue(key, word2.Key, int(val), int(uint32(timeout))))
	case futexWakeOp:
		return futexWakeOpCall(c, key, uaddr2, int(val), int(uint32(timeout)), val3)
	}
	return -int64(unix.ENOSYS)
}

// futexDeadline turns a futex timeout into a monotonic deadline (0 = none).
func futexDeadline(c *Call, addr uint64, absolute, realtime bool) (int64, int64) {
	if addr == 0 {
		return 0, 0
	}
	var ts unix.Timespec
	if r := copyIn(c, addr, bytesOf(&ts)); r < 0 {
		return 0, r
	}
	if ts.Nsec < 0 || ts.Nsec >= 1e9 || ts.Sec < 0 {
		return 0, -int64(unix.EINVAL)
	}
	now := sched.Now()
	if !absolute {
		return now + ts.Nano() + 1, 0
	}
	if realtime {
		var rt unix.Timespec
		unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
		return now + ts.Nano() - rt.Nano() + 1, 0
	}
	return ts.Nano() + 1, 0
}

// futexWakeOpCall implements FUTEX_WAKE_OP: atomically update *uaddr2, wake
// n on uaddr and, if the old value of *uaddr2 passes the comparison, n2 on
// uaddr2.
func futexWakeOpCall(c *Call, key, uaddr2 uint64, n, n2 int, enc uint32) int64 {
	word2, _, r := futexKey(c, uaddr2)
	if r < 0 {
		return r
	}
	key2 := word2.Key
	op, cmp := (enc>>28)&7, (enc>>24)&15
	oparg, cmparg := (enc>>12)&0xfff, enc&0xfff
	if enc&(8<<28) != 0 {
		oparg = 1 << oparg
	}
	old, ok := loadUint32(c, uaddr2)
	if !ok {
		return -int64(unix.EFAULT)
	}
	nv := old
	switch op {
	case 0:
		nv = oparg
	case 1:
		nv = old + oparg
	case 2:
		nv = old | oparg
	case 3:
		nv = old &^ oparg
	case 4:
		nv = old ^ oparg
	default:
		return -int64(unix.ENOSYS)
	}
	if putUint32(c, uaddr2, nv) < 0 {
		return -int64(unix.EFAULT)
	}
	k := c.Env.Kernel
	woken := k.FutexWake(key, n, futexBitsetAll)
	o, a := int32(old), int32(cmparg)
	pass := [...]bool{o == a, o != a, o < a, o <= a, o > a, o >= a}
	if int(cmp) < len(pass) && pass[cmp] {
		woken += k.FutexWake(key2, n2, futexBitsetAll)
	}
	return int64(woken)
}
