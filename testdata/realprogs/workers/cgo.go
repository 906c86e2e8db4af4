//go:build mapscan_cgo

package main

/*
#include <unistd.h>

static void nap(void)
{
	for (;;)
		sleep(60);
}
*/
import "C"

// Built with cgo (tests/e2e/realprog.py's workers-cgo), the program is
// linked by the C toolchain and carries C compile units in its DWARF
// (runtime/cgo's and this file's), and one goroutine is inside a C call
// when the core is made.
func init() {
	go func() { C.nap() }()
}
