package dumpfile

import "debug/elf"

// Levels of a dump (ihkosctl N dump -d LEVEL).
const (
	Level0  = 0  // the daemon's memory and the whole partition
	Level24 = 24 // the daemon's memory only: no app or free pages
)

// BlockSize is the unit of compression.
const BlockSize = 1 << 20

// NoteName names the dump's own notes.
const NoteName = "GOMCK"

// The dump's note types, "GM" and a number.
const (
	NTHeader = 0x474d0001 // Header, as JSON
	NTKmsg   = 0x474d0002 // the kmsg ring, as text
	NTIndex  = 0x474d0003 // the block index (index.go)
	NTThread = 0x474d0004 // one LWK thread: Thread (thread.go)
	NTFiles  = 0x474d0005 // the apps' open files: []OpenFile, as JSON
)

// PTBlocks is the program header type of the compressed blocks, in the
// OS-specific range.
const PTBlocks = elf.ProgType(0x60474d42)

// Version is the format's version.
const Version = 1

// Header is what a dump says of itself.
type Header struct {
	Version   int    `json:"version"`
	Instance  int    `json:"instance"`
	Level     int    `json:"level"`
	BuildID   string `json:"build_id"` // the daemon's GNU build id, hex
	Kernel    string `json:"kernel"`   // the daemon's executable, as it ran
	DaemonPID int    `json:"daemon_pid"`
	Time      string `json:"time"` // RFC 3339
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"` // why it was taken: "ihkosctl dump", "panic: ...", "hung"
	BlockSize int    `json:"block_size"`
}

// OpenFile is an open file descriptor of an LWK process. The app's
// files are its mcexec's (offloaded calls run there), so they are read
// from mcexec's /proc/PID/fd and fdinfo when the dump is taken. Dumps
// written before NTFiles have none, which Dump.HasFiles tells apart from
// processes without files.
type OpenFile struct {
	PID   int    `json:"pid"` // the LWK process
	FD    int    `json:"fd"`
	Path  string `json:"path"`            // the fd link's target: a path, pipe:[N], socket:[N]
	Type  string `json:"type"`            // REG DIR CHR BLK FIFO SOCK LNK UNKN, as crash's files
	Pos   int64  `json:"pos"`             // fdinfo's pos
	Flags int    `json:"flags,omitempty"` // fdinfo's flags (O_*)
}
