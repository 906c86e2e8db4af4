#!/bin/sh
# make fuzz: run every fuzzing target FUZZ_SECONDS seconds, starting from
# the committed seeds (tests/fuzz/corpus/NAME) and keeping what it finds in
# a scratch corpus (FUZZ_WORK, default build-fuzz/work), never in the tree.
# Fails when a target crashes, leaks, times out or runs out of memory: its
# reproducer is then in FUZZ_WORK (crash-*, leak-*, timeout-*, oom-*);
# replay it with `build-fuzz/fuzz/fuzz_NAME FILE`.
set -u
seconds=${FUZZ_SECONDS:-60}
bin=${FUZZ_BIN:-build-fuzz/fuzz}
work=${FUZZ_WORK:-build-fuzz/work}
targets=${FUZZ_TARGETS:-"core exe flat dwarf heap classic swiss"}
failed=""
for t in $targets; do
	mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
	case $t in
	dwarf) max=65536 ;;        # the seed is a small C program
	heap) max=65536 ;;
	*) max=16384 ;;
	esac
	echo "fuzz: $t for ${seconds}s"
	# rss_limit: the sandboxed DWARF reader's child counts too.
	if ! "$bin/fuzz_$t" -max_total_time="$seconds" -max_len=$max -timeout=30 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
		"$work/$t/corpus" "tests/fuzz/corpus/$t" >"$work/$t/log" 2>&1; then
		failed="$failed $t"
		tail -40 "$work/$t/log"
	fi
	grep -E "stat::number_of_executed_units|cov: " "$work/$t/log" | tail -2 | sed "s/^/fuzz: $t: /"
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (reproducers in $work/*/artifacts/)"
	exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a crash"
