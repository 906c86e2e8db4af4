#!/bin/sh
# `make demo`: run mapscan on each bundled sample core (text output).
#
# Usage: sh testdata/samples/demo.sh MAPSCAN
# The samples are decompressed once into build/samples/<name>/.
set -eu

mapscan=${1:?usage: demo.sh MAPSCAN}
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$top/build/samples
status=0

for s in "$top"/testdata/samples/*/; do
	[ -f "$s/core.xz" ] || continue
	name=$(basename "$s")
	mkdir -p "$dest/$name"
	for f in exe core; do
		if [ ! -f "$dest/$name/$f" ] || [ "$s/$f.xz" -nt "$dest/$name/$f" ]; then
			xz -dc "$s/$f.xz" >"$dest/$name/$f.tmp" && mv "$dest/$name/$f.tmp" "$dest/$name/$f"
		fi
	done
	echo "== $name ($(cat "$s/GOVERSION")): mapscan --exe build/samples/$name/exe build/samples/$name/core"
	"$mapscan" --exe "$dest/$name/exe" "$dest/$name/core" || status=$?
	echo
done
exit $status
