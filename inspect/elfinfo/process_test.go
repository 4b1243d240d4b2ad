package elfinfo

import (
	"encoding/binary"
	"testing"
)

func TestParseProcessNotes(t *testing.T) {
	le := binary.LittleEndian
	st := make([]byte, 336)
	le.PutUint16(st[12:], 11)
	le.PutUint64(st[16:], 1<<9)
	le.PutUint32(st[32:], 4242)
	if got, ok := ParsePrstatus(st, le); !ok || got != (Prstatus{TID: 4242, Cursig: 11, Pending: 1 << 9}) {
		t.Errorf("ParsePrstatus = %+v, %v", got, ok)
	}
	info := make([]byte, 136)
	info[1] = 'S'
	le.PutUint32(info[24:], 7)
	le.PutUint32(info[28:], 6)
	copy(info[40:], "ticker")
	copy(info[56:], "ticker 100 5")
	if got, ok := ParsePrpsinfo(info, le); !ok || got != (Prpsinfo{State: 'S', PID: 7, PPID: 6, Name: "ticker", Args: "ticker 100 5"}) {
		t.Errorf("ParsePrpsinfo = %+v, %v", got, ok)
	}
	for _, n := range []int{0, 20, 35} {
		if _, ok := ParsePrstatus(st[:n], le); ok {
			t.Errorf("ParsePrstatus took %d bytes", n)
		}
		if _, ok := ParsePrpsinfo(info[:n], le); ok {
			t.Errorf("ParsePrpsinfo took %d bytes", n)
		}
	}
}
