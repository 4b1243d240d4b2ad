// Command kernel links the LWK kernel's state, for the lwk tests to read
// its layout from DWARF (go test strips its own binary): the records the
// decoders read are the kernel's own, as they are today.
package main

import "github.com/gomck/gomck/kernel"

func main() { println(kernel.Instance != nil) }
