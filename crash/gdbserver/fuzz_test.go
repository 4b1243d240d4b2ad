package gdbserver

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzDecodeFrame: any frame and checksum decode or fail, never panic,
// and what decodes is at most PacketSize bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("OK"), []byte("9a"))
	f.Add([]byte("m4007}]0,*\"10"), []byte("00"))
	f.Fuzz(func(t *testing.T, frame, sum []byte) {
		var s [2]byte
		copy(s[:], sum)
		p, err := decodeFrame(frame, s)
		if err == nil && len(p) > PacketSize {
			t.Fatalf("decoded %d bytes, more than PacketSize", len(p))
		}
		// With the right checksum, what escape makes decodes back.
		if err == nil {
			body := escape(p)
			if q, err := decodeFrame(body, [2]byte{hexDigit(checksum(body) >> 4), hexDigit(checksum(body) & 15)}); err != nil || !bytes.Equal(p, q) {
				t.Fatalf("escape(%q) decodes to %q, %v", p, q, err)
			}
		}
	})
}

func hexDigit(n byte) byte { return "0123456789abcdef"[n] }

// FuzzHandle: any packet gets a reply (or ends the session), never a
// panic, whatever it asks of the test process.
func FuzzHandle(f *testing.F) {
	for _, p := range []string{"?", "g", "p10", "m400700,10", "Hg6", "T5", "qXfer:threads:read::0,100",
		"qXfer:libraries-svr4:read::10,100", "qXfer:features:read:target.xml:ffffffffffffffff,1", "qRcmd,7073",
		"M0,1:00", "vCont;c", "qThreadExtraInfo,-1", "mffffffffffffffff,ffffffffffffffff", "Hc-1"} {
		f.Add([]byte(p))
	}
	s := testServer(f)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		s.c = newConn(struct {
			io.Reader
			io.Writer
		}{strings.NewReader(""), io.Discard}, nil)
		s.c.noAck = true
		reply, done := s.handle(pkt)
		if reply == nil && !done && !bytes.HasPrefix(pkt, []byte("qRcmd,")) {
			t.Fatalf("%q: no reply, and the session goes on", pkt)
		}
		s.cur = s.stopped
	})
}

// FuzzServe: any byte stream from gdb ends the session cleanly or with
// an error, never a panic or a hang.
func FuzzServe(f *testing.F) {
	f.Add([]byte(frame("qSupported") + "+" + frame("QStartNoAckMode") + "+" + frame("g") + frame("D")))
	f.Add([]byte("$m400700,4#fd-+$k#6b"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := testServer(t)
		s.Serve(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), io.Discard})
	})
}
