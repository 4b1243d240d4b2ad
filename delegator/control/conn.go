package control

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// MaxMessage bounds one packet (argv and environment included).
const MaxMessage = 4 << 20

// MaxFDs bounds the descriptors one message carries.
const MaxFDs = 64

// Conn is one end of a control connection. One goroutine may Send while
// another Recv-s.
type Conn struct {
	fd     int
	sendMu sync.Mutex // a large message's announcement and the message go together
}

// ErrNoInstance is returned by Dial when no daemon listens.
var ErrNoInstance = errors.New("no LWK instance is booted")

// ErrNoAnswer is returned by Query when the daemon does not answer in time.
var ErrNoAnswer = errors.New("no answer")

// Dial connects to instance n.
func Dial(n int) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	path := SocketPath(n)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ECONNREFUSED):
			return nil, fmt.Errorf("%w (instance %d: %s: %v; boot one with mcreboot)", ErrNoInstance, n, path, err)
		case errors.Is(err, unix.EACCES):
			return nil, fmt.Errorf("instance %d belongs to another user (%s): %w", n, path, err)
		}
		return nil, fmt.Errorf("connect to instance %d: %w", n, err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, MaxMessage)
	return &Conn{fd: fd}, nil
}

// FD returns the socket descriptor.
func (c *Conn) FD() int { return c.fd }

// Close closes the connection.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// smallMessage is Recv's buffer. Control messages are smaller but for an
// exec's environment, a query's answer or many segments to mirror; a larger
// one is announced by a packet of its own (bigMessage), since reading a
// SEQPACKET packet into a shorter buffer drops the rest of it, and peeking
// at every packet's size first cost a system call a message.
const smallMessage = 64 << 10

// bigMessage opens the announcement of a message larger than smallMessage:
// then comes its size as a uvarint, and the message is the next packet. It
// starts no message: binary kinds are letters, JSON starts with '{'.
const bigMessage = 0

// buffer is one Send's or Recv's working memory, pooled: a fresh one a
// message would cost more than the message (its pages fault in).
type buffer struct{ data, oob []byte }

var buffers = sync.Pool{New: func() any {
	return &buffer{data: make([]byte, smallMessage), oob: make([]byte, unix.CmsgSpace(4*MaxFDs))}
}}

// Send writes one message with optional descriptors: binary if v is an
// encoding.BinaryAppender, else JSON.
func (c *Conn) Send(v any, fds ...int) error {
	buf := buffers.Get().(*buffer)
	defer buffers.Put(buf)
	var b []byte
	var err error
	if m, ok := v.(encoding.BinaryAppender); ok {
		b, err = m.AppendBinary(buf.data[:0])
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return fmt.Errorf("control send: %w", err)
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("control message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if len(b) > smallMessage {
		if err := c.sendmsg(binary.AppendUvarint([]byte{bigMessage}, uint64(len(b))), nil); err != nil {
			return err
		}
	}
	return c.sendmsg(b, oob)
}

func (c *Conn) sendmsg(b, oob []byte) error {
	for {
		err := unix.Sendmsg(c.fd, b, oob, nil, 0)
		if err == nil {
			return nil
		}
		if err != unix.EINTR {
			return fmt.Errorf("control send: %w", err)
		}
	}
}

// Recv reads one message into v and returns the descriptors that came with
// it: binary if v is an encoding.BinaryUnmarshaler, else JSON. The peer's
// hang-up is reported as os.ErrClosed. Recv-s on one Conn must not overlap.
func (c *Conn) Recv(v any) ([]int, error) {
	buf := buffers.Get().(*buffer)
	defer buffers.Put(buf)
	msg, fds, err := c.recvmsg(buf.data, buf.oob)
	if err == nil && msg[0] == bigMessage {
		msg, fds, err = c.recvBig(msg, fds, buf.oob)
	}
	if err == nil {
		if m, ok := v.(encoding.BinaryUnmarshaler); ok {
			err = m.UnmarshalBinary(msg)
		} else {
			err = json.Unmarshal(msg, v)
		}
		if err != nil {
			err = fmt.Errorf("control message: %w", err)
		}
	}
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, err
	}
	return fds, nil
}

// recvmsg reads one packet into b, and the descriptors that came with it
// (also on error, for the caller to close).
func (c *Conn) recvmsg(b, oob []byte) (msg []byte, fds []int, err error) {
	var n, oobn, flags int
	for {
		n, oobn, flags, _, err = unix.Recvmsg(c.fd, b, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("control receive: %w", err)
	}
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				if r, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, r...)
				}
			}
		}
	}
	switch {
	case flags&unix.MSG_TRUNC != 0:
		return nil, fds, fmt.Errorf("control receive: unannounced message larger than %d bytes", len(b))
	case n == 0:
		return nil, fds, os.ErrClosed
	}
	return b[:n], fds, nil
}

// recvBig reads the message that announcement a announced, adding its
// descriptors to fds.
func (c *Conn) recvBig(a []byte, fds []int, oob []byte) ([]byte, []int, error) {
	size, n := binary.Uvarint(a[1:])
	if n <= 0 || 1+n != len(a) || size == 0 || size > MaxMessage {
		return nil, fds, fmt.Errorf("control receive: bad large message announcement %x", a[:min(len(a), 16)])
	}
	msg, more, err := c.recvmsg(make([]byte, size), oob)
	fds = append(fds, more...)
	if err == nil && len(msg) != int(size) {
		err = fmt.Errorf("control receive: message of %d bytes announced as %d", len(msg), size)
	}
	return msg, fds, err
}

// Call sends a request and waits for the response.
func (c *Conn) Call(req Request, fds ...int) (Response, []int, error) {
	if err := c.Send(req, fds...); err != nil {
		return Response{}, nil, err
	}
	var resp Response
	rfds, err := c.Recv(&resp)
	if err != nil {
		return resp, nil, err
	}
	if !resp.OK {
		return resp, rfds, errors.New(resp.Error)
	}
	return resp, rfds, nil
}

// Listener accepts control connections.
type Listener struct {
	fd   int
	Path string
}

// Listen creates instance n's socket, owned by uid/gid, mode 0600.
func Listen(n int, uid, gid int) (*Listener, error) {
	if err := os.MkdirAll(RunDir(), 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	path := SocketPath(n)
	os.Remove(path)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	old := unix.Umask(0o177)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", path, err)
	}
	if os.Geteuid() == 0 && uid >= 0 {
		os.Chown(path, uid, gid)
	}
	if err := unix.Listen(fd, 64); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Listener{fd: fd, Path: path}, nil
}

// Accept waits for the next connection.
func (l *Listener) Accept() (*Conn, error) {
	for {
		fd, _, err := unix.Accept4(l.fd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, MaxMessage)
		return &Conn{fd: fd}, nil
	}
}

// Close stops listening and removes the socket.
func (l *Listener) Close() error {
	os.Remove(l.Path)
	return unix.Close(l.fd)
}

// FromFD wraps an already connected socket.
func FromFD(fd int) *Conn { return &Conn{fd: fd} }

// QueryTimeout bounds how long Query waits for an answer.
const QueryTimeout = 10 * time.Second

// Query sends one request to instance n and returns the response.
func Query(n int, op string) (Response, error) { return QueryWithin(n, op, QueryTimeout) }

// QueryWithin is Query with its own bound on the wait.
func QueryWithin(n int, op string, timeout time.Duration) (Response, error) {
	c, err := Dial(n)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	// A stopped or wedged daemon must not hang the tools.
	tv := unix.NsecToTimeval(int64(timeout))
	unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	resp, fds, err := c.Call(Request{Op: op})
	if errors.Is(err, unix.EAGAIN) {
		err = fmt.Errorf("%w: instance %d did not answer within %v (daemon stopped or busy)", ErrNoAnswer, n, timeout)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return resp, err
}
