package gdbserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// PacketSize is the largest packet either side sends (qSupported's
// PacketSize): a memory read replies with up to half as many bytes.
const PacketSize = 0x4000

// maxAcks bounds how often a packet is sent again that gdb keeps
// refusing with '-': a line that keeps corrupting is given up on.
const maxAcks = 8

// errTooLong is a packet longer than PacketSize.
var errTooLong = fmt.Errorf("packet longer than %d bytes", PacketSize)

// conn frames packets on a byte stream as the remote protocol does:
// $payload#checksum, with '+'/'-' acknowledgements until the peer asks
// for no-ack mode.
type conn struct {
	r     *bufio.Reader
	w     *bufio.Writer
	noAck bool
	log   io.Writer // every packet, for -d; nil for none
}

// newConn reads with a buffer that holds the longest frame: every byte of
// a PacketSize payload escaped.
func newConn(rw io.ReadWriter, log io.Writer) *conn {
	return &conn{r: bufio.NewReaderSize(rw, 2*PacketSize+4), w: bufio.NewWriter(rw), log: log}
}

func (c *conn) logf(format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, format, args...)
	}
}

// read returns the next packet's payload, unescaped. Acknowledgements and
// interrupts (^C: nothing runs, so nothing to stop) between packets are
// skipped; a packet with a bad checksum is refused with '-' and the next
// one read, as gdb then sends it again.
func (c *conn) read() ([]byte, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b != '$' {
			continue // '+', '-', 0x03 or line noise
		}
		frame, err := c.r.ReadSlice('#')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = errTooLong
		}
		if err != nil {
			return nil, err
		}
		var sum [2]byte
		if _, err := io.ReadFull(c.r, sum[:]); err != nil {
			return nil, err
		}
		payload, err := decodeFrame(frame[:len(frame)-1], sum)
		if err != nil {
			c.logf("<- bad packet: %v\n", err)
			if !c.noAck {
				if err := c.ack('-'); err != nil {
					return nil, err
				}
			}
			continue
		}
		c.logf("<- %q\n", payload)
		if !c.noAck {
			if err := c.ack('+'); err != nil {
				return nil, err
			}
		}
		return payload, nil
	}
}

func (c *conn) ack(b byte) error {
	if err := c.w.WriteByte(b); err != nil {
		return err
	}
	return c.w.Flush()
}

// decodeFrame checks a frame's checksum (two hex digits, the sum of the
// bytes between '$' and '#' modulo 256) and undoes its escapes ('}'
// followed by the byte xor 0x20) and run-length encoding ('*' and a
// count byte: the byte before repeated count-29 more times).
func decodeFrame(frame []byte, sum [2]byte) ([]byte, error) {
	want, err := strconv.ParseUint(string(sum[:]), 16, 8)
	if err != nil {
		return nil, fmt.Errorf("checksum %q is not two hex digits", sum[:])
	}
	if got := checksum(frame); got != byte(want) {
		return nil, fmt.Errorf("checksum %02x, the packet sums to %02x", want, got)
	}
	out := make([]byte, 0, len(frame))
	for i := 0; i < len(frame); i++ {
		switch b := frame[i]; b {
		case '}':
			if i+1 == len(frame) {
				return nil, errors.New("escape '}' at the end of the packet")
			}
			i++
			out = append(out, frame[i]^0x20)
		case '*':
			if len(out) == 0 || i+1 == len(frame) {
				return nil, errors.New("run-length '*' without a byte to repeat or a count")
			}
			i++
			n := int(frame[i]) - 29
			if n < 3 || n > 97 {
				return nil, fmt.Errorf("run-length count %q out of range", frame[i])
			}
			last := out[len(out)-1]
			for range n {
				out = append(out, last)
			}
		default:
			out = append(out, b)
		}
	}
	if len(out) > PacketSize {
		return nil, errTooLong
	}
	return out, nil
}

func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// escape escapes the bytes that would end or corrupt a frame.
func escape(payload []byte) []byte {
	out := make([]byte, 0, len(payload)+8)
	for _, b := range payload {
		switch b {
		case '$', '#', '}', '*':
			out = append(out, '}', b^0x20)
		default:
			out = append(out, b)
		}
	}
	return out
}

// write sends a packet and, until no-ack mode, waits for gdb's '+',
// sending it again on '-'.
func (c *conn) write(payload []byte) error {
	body := escape(payload)
	frame := fmt.Appendf(nil, "$%s#%02x", body, checksum(body))
	c.logf("-> %q\n", payload)
	for range maxAcks {
		if _, err := c.w.Write(frame); err != nil {
			return err
		}
		if err := c.w.Flush(); err != nil {
			return err
		}
		if c.noAck {
			return nil
		}
		b, err := c.r.ReadByte()
		if err != nil {
			return err
		}
		switch b {
		case '+':
			return nil
		case '-':
			continue
		default: // gdb went on without acking: take it as received
			return c.r.UnreadByte()
		}
	}
	return fmt.Errorf("gdb refused a packet %d times", maxAcks)
}
