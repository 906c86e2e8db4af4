#!/bin/sh
# Rebuild the bundled sample cores used by `make demo` and tests/e2e/run.py:
#
#   testdata/samples/<name>/exe.xz       the demo executable (with DWARF)
#   testdata/samples/<name>/core.xz      its core, written by the kernel
#   testdata/samples/<name>/expect.json  the oracle's figures for that core
#   testdata/samples/<name>/source.go    the demo's source (mapstates -demo)
#   testdata/samples/<name>/GOVERSION    the Go version that built it
#
# for swiss-go1.26 (go, Swiss maps) and classic-go1.19 (Go 1.19, classic maps).
# Needs core_pattern to name a file in the cwd (the default "core").
#
# Usage: sh testdata/samples/make-samples.sh   (GO126=... GO119=... to override)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
fixture=$top/testdata/fixtures/mapstates
out=$top/testdata/samples
go126=${GO126:-go}
go119=${GO119:-/usr/lib/go-1.19/bin/go}

case $(cat /proc/sys/kernel/core_pattern) in
'|'* | /*)
	echo "make-samples.sh: core_pattern is '$(cat /proc/sys/kernel/core_pattern)'; set it to 'core' to get cores in the cwd" >&2
	exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sample NAME GO-COMMAND
sample() {
	name=$1 gocmd=$2 d=$tmp/$1
	mkdir -p "$d/run"
	(cd "$fixture" && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 "$gocmd" build -o "$d/mapstates" .)
	# The fixture dies by SIGABRT once expect.json is written.
	(cd "$d/run" && ulimit -c unlimited &&
		GOTRACEBACK=crash MAPSCAN_ORACLE="$d/expect.json" "$d/mapstates" -demo 2>"$d/stderr") || true
	core=$(ls "$d"/run/core* 2>/dev/null | head -n 1)
	if [ -z "$core" ] || [ ! -s "$d/expect.json" ]; then
		echo "make-samples.sh: $name: no core or no oracle; the program said:" >&2
		tail -n 5 "$d/stderr" >&2
		exit 1
	fi
	mkdir -p "$out/$name"
	xz -9e -T1 -c "$d/mapstates" >"$out/$name/exe.xz"
	xz -9e -T1 -c "$core" >"$out/$name/core.xz"
	cp "$d/expect.json" "$out/$name/expect.json"
	cp "$fixture/demo.go" "$out/$name/source.go"
	sed -n 's/^ *"go_version": "\([^"]*\)".*/\1/p' "$d/expect.json" >"$out/$name/GOVERSION"
	echo "$name: $(cat "$out/$name/GOVERSION"), exe.xz $(wc -c <"$out/$name/exe.xz") bytes, core.xz $(wc -c <"$out/$name/core.xz") bytes"
}

sample swiss-go1.26 "$go126"
sample classic-go1.19 "$go119"
