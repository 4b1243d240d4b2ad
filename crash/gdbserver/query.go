package gdbserver

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
)

// supported is the qSupported reply: what gdb may ask for.
var supported = fmt.Sprintf("PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;"+
	"qXfer:libraries-svr4:read+;qXfer:auxv:read+;qXfer:exec-file:read+", PacketSize)

// query answers a q packet (body without the q).
func (s *Server) query(body string) []byte {
	name, args, _ := strings.Cut(body, ":")
	switch {
	case name == "Supported":
		return []byte(supported)
	case name == "Attached":
		return []byte("1") // gdb detaches, never kills, when it is done
	case name == "C":
		return fmt.Appendf(nil, "QC%x", s.cur.TID)
	case name == "fThreadInfo":
		s.listed = 0
		return s.threadInfo()
	case name == "sThreadInfo":
		return s.threadInfo()
	case strings.HasPrefix(name, "ThreadExtraInfo,"):
		t, err := s.thread(strings.TrimPrefix(name, "ThreadExtraInfo,"))
		if err != nil {
			return errorReply(err)
		}
		return hex.AppendEncode(nil, []byte(t.extra()))
	case name == "Symbol":
		return []byte("OK") // no symbols wanted
	case name == "Xfer":
		return s.xfer(args)
	case strings.HasPrefix(name, "Rcmd,"):
		return s.rcmd(strings.TrimPrefix(name, "Rcmd,"))
	}
	return []byte{}
}

// threadsPerInfo bounds the thread ids of a q[fs]ThreadInfo reply, so
// that it fits in PacketSize.
const threadsPerInfo = PacketSize / 16

// threadInfo lists the next threads for q[fs]ThreadInfo, 'l' once all
// were.
func (s *Server) threadInfo() []byte {
	if s.listed >= len(s.threads) {
		return []byte("l")
	}
	out := []byte("m")
	for i, t := range s.threads[s.listed:min(len(s.threads), s.listed+threadsPerInfo)] {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, int64(t.TID), 16)
		s.listed++
	}
	return out
}

// extra is what gdb's info threads shows after a thread's name: its
// process and what it is doing, as ps would.
func (t *thread) extra() string {
	s := fmt.Sprintf("pid %d, %s", t.proc.PID, t.Why)
	if t.SyscallName != "" {
		s += " in " + t.SyscallName
	}
	return s
}

// xfer answers qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH with a part of the
// object: 'm' and the bytes if more follow, 'l' if they are its last.
func (s *Server) xfer(args string) []byte {
	parts := strings.SplitN(args, ":", 4)
	if len(parts) != 4 {
		return errorReply(fmt.Errorf("bad qXfer %q", args))
	}
	object, op, annex := parts[0], parts[1], parts[2]
	if op != "read" {
		return s.refuse("writing " + object)
	}
	off, n, err := addrLength(parts[3])
	if err != nil {
		return errorReply(err)
	}
	doc, err := s.object(object, annex)
	if err != nil {
		return errorReply(err)
	}
	if off >= uint64(len(doc)) {
		return []byte("l")
	}
	rest := doc[off:]
	if uint64(len(rest)) > n {
		return append([]byte("m"), rest[:n]...)
	}
	return append([]byte("l"), rest...)
}

// object is a qXfer object, whole.
func (s *Server) object(object, annex string) ([]byte, error) {
	switch object {
	case "features":
		if annex != "target.xml" {
			return nil, fmt.Errorf("no target description %q (there is target.xml)", annex)
		}
		return []byte(s.desc.xml), nil
	case "threads":
		return s.threadsXML(), nil
	case "auxv":
		return s.auxv()
	case "libraries-svr4":
		return s.libraries()
	case "exec-file":
		return s.execFile(annex)
	}
	return nil, fmt.Errorf("no object %q", object)
}

// threadsXML lists every thread: id the LWK tid, name its comm, core
// its LWK CPU.
func (s *Server) threadsXML() []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<threads>\n")
	for _, t := range s.threads {
		fmt.Fprintf(&b, "<thread id=\"%x\" core=\"%d\" name=\"%s\">%s</thread>\n", t.TID, t.CPU, html.EscapeString(t.comm()), html.EscapeString(t.extra()))
	}
	b.WriteString("</threads>\n")
	return b.Bytes()
}

// auxv is the current process's auxiliary vector, as Linux's
// /proc/PID/auxv (native words, ending with AT_NULL).
func (s *Server) auxv() ([]byte, error) {
	v := s.cur.proc.Auxv
	if len(v) == 0 {
		return nil, fmt.Errorf("pid %d: no auxiliary vector was read", s.cur.proc.PID)
	}
	var out []byte
	for _, w := range v {
		out = binary.LittleEndian.AppendUint64(out, w)
	}
	if len(v) < 2 || v[len(v)-2] != 0 {
		out = append(out, make([]byte, 16)...)
	}
	return out, nil
}

// execFile is the path of the executable of process annex (its pid in
// hex), or of the current thread's: what gdb loads when it was given
// none.
func (s *Server) execFile(annex string) ([]byte, error) {
	p := s.cur.proc
	if annex != "" {
		pid, err := strconv.ParseInt(annex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("bad pid %q", annex)
		}
		if p, err = s.snap.Process(int(pid)); err != nil {
			return nil, err
		}
	}
	return []byte(p.Exe), nil
}

// rcmdChunk bounds the console output of one O packet.
const rcmdChunk = 1024

// rcmd runs a monitor command (qRcmd,HEX): its output goes to gdb's
// console in O packets, then OK. A command that fails says why there
// too: gdb shows only "Protocol error" for an error reply.
func (s *Server) rcmd(hexCmd string) []byte {
	cmd, err := hex.DecodeString(hexCmd)
	if err != nil {
		return errorReply(errors.New("monitor command not in hex"))
	}
	var out bytes.Buffer
	if err := s.monitor(&out, string(cmd)); err != nil {
		fmt.Fprintf(&out, "eclair: %v\n", err)
	}
	for b := out.Bytes(); len(b) > 0; {
		chunk := b[:min(len(b), rcmdChunk)]
		b = b[len(chunk):]
		if err := s.c.write(hex.AppendEncode([]byte("O"), chunk)); err != nil {
			return nil // the connection is gone; the next read says so
		}
	}
	return []byte("OK")
}
