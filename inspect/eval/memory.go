package eval

import "github.com/gomck/gomck/inspect"

// Memory is where every byte of the target comes from: a live process
// (inspect.OpenLive) or a dump (inspect.OpenCore). It has the shape of
// Delve's proc.MemoryReader.
type Memory = inspect.Memory
