# mapscan — see README.md.  `make` builds, `make test` runs every test
# (unit, end-to-end on both map layouts, and the same under ASan+UBSan),
# `make demo` runs mapscan on a bundled sample core.

CC      ?= cc
CFLAGS  ?= -O2 -g
# Project flags are appended even when CFLAGS comes from the command line
# (make test passes sanitizer flags that way).
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration \
           -Ilib -Iformats $(shell pkg-config --cflags libdwarf 2>/dev/null || echo -I/usr/include/libdwarf) \
           $(shell pkg-config --cflags libcjson 2>/dev/null)
LDLIBS  += -ldwarf -lelf -lz -lcjson -lncursesw -pthread
BUILD   ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
override CFLAGS += -DMAPSCAN_VERSION='"$(VERSION)"'

LIB_SRC := $(wildcard lib/*.c)
FMT_SRC := $(wildcard formats/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(FMT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test unit e2e asan demo bench bench-real clean check-layouts
all: $(BUILD)/mapscan

$(BUILD)/%.o: %.c $(wildcard lib/*.h formats/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmapscan.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/mapscan: $(BUILD)/cmd/mapscan.o $(BUILD)/libmapscan.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libmapscan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmapscan.a $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

e2e: $(BUILD)/mapscan
	python3 tests/e2e/run.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/corrupt.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/live.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/tui.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/flags.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/stripped.py --mapscan $(BUILD)/mapscan
	python3 tests/e2e/realprog.py --mapscan $(BUILD)/mapscan --cache build/realprog

# lib/golayout_data.c against the DWARF of toolchains the suite has anyway
# (python3 tools/gen-layouts.py regenerates it from all of them).
check-layouts:
	python3 tools/gen-layouts.py --check go1.19,go1.23,go1.26,go1.27

# The whole suite, then again with AddressSanitizer and UBSan.
test:
	$(MAKE) check-layouts unit e2e
	$(MAKE) BUILD=build-asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' unit e2e

demo: $(BUILD)/mapscan
	sh testdata/samples/demo.sh $(BUILD)/mapscan

bench: $(BUILD)/mapscan
	python3 tests/bench.py --mapscan $(BUILD)/mapscan

# gopls after an LSP session over the Delve source (issue 9's acceptance run).
bench-real: $(BUILD)/mapscan
	python3 tests/bench_real.py --mapscan $(BUILD)/mapscan

clean:
	rm -rf build build-asan
