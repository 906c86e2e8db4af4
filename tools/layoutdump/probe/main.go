// Package main is the program tools/gen-layouts.py builds with every
// toolchain so that its DWARF describes the runtime: any Go program's does;
// this one also uses a map, a channel and interfaces.
package main

import "os"

var (
	m              = map[string]int{"a": 1}
	ch             = make(chan int, 1)
	x  interface{} = m
)

func main() {
	ch <- len(m)
	if _, ok := x.(map[string]int); !ok || <-ch != 1 {
		os.Exit(1)
	}
}
