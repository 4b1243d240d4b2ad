package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// MaxMessage bounds one packet (argv and environment included).
const MaxMessage = 4 << 20

// MaxFDs bounds the descriptors one message carries.
const MaxFDs = 8

// Conn is one end of a control connection.
type Conn struct{ fd int }

// ErrNoInstance is returned by Dial when no daemon listens.
var ErrNoInstance = errors.New("no LWK instance is booted")

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

// Send writes one message with optional descriptors.
func (c *Conn) Send(v any, fds ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("control message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		err = unix.Sendmsg(c.fd, b, oob, nil, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("control send: %w", err)
	}
	return nil
}

// Recv reads one message into v and returns the descriptors that came with
// it. io.EOF-like closure is reported as os.ErrClosed.
func (c *Conn) Recv(v any) ([]int, error) {
	// Peek at the packet's size first: a MaxMessage buffer for every
	// message would cost more than the message (fresh pages fault in).
	var n, oobn int
	var err error
	for {
		n, _, err = unix.Recvfrom(c.fd, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("control receive: %w", err)
	}
	buf := make([]byte, max(n, 1))
	oob := make([]byte, unix.CmsgSpace(4*MaxFDs))
	for {
		n, oobn, _, _, err = unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("control receive: %w", err)
	}
	if n == 0 {
		return nil, os.ErrClosed
	}
	var fds []int
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
	if err := json.Unmarshal(buf[:n], v); err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("control message: %w", err)
	}
	return fds, nil
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
func Query(n int, op string) (Response, error) {
	c, err := Dial(n)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	// A stopped or wedged daemon must not hang the tools.
	tv := unix.NsecToTimeval(int64(QueryTimeout))
	unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	resp, fds, err := c.Call(Request{Op: op})
	if errors.Is(err, unix.EAGAIN) {
		err = fmt.Errorf("instance %d did not answer within %v (daemon stopped or busy)", n, QueryTimeout)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return resp, err
}
