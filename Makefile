# mapscan — see README.md.  `make` builds, `make test` runs every test
# (unit, end-to-end on both map layouts, and the same under ASan+UBSan+LSan),
# `make demo` runs mapscan on a bundled sample core.

CC      ?= cc
CFLAGS  ?= -O2 -g
# Project flags are appended even when CFLAGS comes from the command line
# (make test passes sanitizer flags that way).
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration \
           -Ilib -Iformats $(shell pkg-config --cflags libdwarf 2>/dev/null || echo -I/usr/include/libdwarf) \
           $(shell pkg-config --cflags libcjson 2>/dev/null)
LDLIBS  += -ldwarf -lelf -lz -lzstd -llzma -llz4 -lcjson -lncursesw -lseccomp -pthread
ifeq ($(STATIC),1)
LDLIBS  := -Wl,-Bstatic -ldwarf -lelf -lzstd -llzma -llz4 -lz -lncursesw -ltinfo -lseccomp \
	   -Wl,-Bdynamic -lcjson -lm -pthread -Wl,-rpath,'$$ORIGIN'
endif
BUILD   ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
override CFLAGS += -DMAPSCAN_VERSION='"$(VERSION)"'

# make install: PREFIX, DESTDIR and the directories below, as usual.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/mapscan
INSTALL ?= install
# The commit --version names; "unknown" outside a git checkout.
COMMIT  := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

LIB_SRC := $(wildcard lib/*.c)
FMT_SRC := $(wildcard formats/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(FMT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test unit e2e asan demo bench bench-real clean check-layouts install uninstall static FORCE fuzz fuzz-build fuzz-seeds cross-arm64
all: $(BUILD)/mapscan

# Rewritten only when the commit changes, so nothing rebuilds needlessly.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@printf '#define MAPSCAN_COMMIT "%s"\n' '$(COMMIT)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/cmd/mapscan.o: $(BUILD)/version.h
$(BUILD)/cmd/mapscan.o: override CFLAGS += -I$(BUILD)

$(BUILD)/%.o: %.c $(wildcard lib/*.h formats/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmapscan.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/mapscan: $(BUILD)/cmd/mapscan.o $(BUILD)/libmapscan.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h tests/unit/elfbuild.h $(BUILD)/libmapscan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmapscan.a $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

# The end-to-end harnesses, one target each: `make -j2 -O e2e` (what make
# test does) runs two at a time, longest first, and prints each one's
# output whole when it ends.  They spend much of their time waiting
# (processes to crash, stop, redraw), so two overlap well on two cores.
E2E := realprog live run stripped ecosystem corrupt tui flags
E2E_ARGS_run := --cache build/e2e
E2E_ARGS_realprog := --cache build/realprog
.PHONY: $(E2E:%=e2e-%)
e2e: $(E2E:%=e2e-%)
$(E2E:%=e2e-%): e2e-%: $(BUILD)/mapscan
	python3 tests/e2e/$*.py --mapscan $(BUILD)/mapscan $(E2E_ARGS_$*)

# lib/golayout_data.c against the DWARF of toolchains the suite has anyway
# (python3 tools/gen-layouts.py regenerates it from all of them).
check-layouts:
	python3 tools/gen-layouts.py --check go1.19,go1.23,go1.26,go1.27

# An arm64 host: every source compiles for it (syntax only: arm64 builds of
# the libraries are not installed), and test_arch, which needs libc only,
# is built for arm64 and run under qemu-user, where the kernel layouts it
# checks against the host's headers are arm64's.
CROSS_ARM64 ?= aarch64-linux-gnu-gcc
cross-arm64: $(BUILD)/version.h
	@set -e; for f in $(LIB_SRC) $(FMT_SRC) cmd/mapscan.c; do \
		$(CROSS_ARM64) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib -Iformats -I$(BUILD) \
			-idirafter /usr/include/libdwarf -idirafter /usr/include/cjson \
			-idirafter /usr/include -fsyntax-only $$f; done
	@mkdir -p build/cross-arm64
	$(CROSS_ARM64) -static -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib -Itests/unit \
		-o build/cross-arm64/test_arch tests/unit/test_arch.c lib/arch.c lib/arch_amd64.c lib/arch_arm64.c
	qemu-aarch64 build/cross-arm64/test_arch

# The whole suite, then again with AddressSanitizer and UBSan.
export ASAN_OPTIONS ?= detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1
ASAN := BUILD=build-asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all'
test:
	$(MAKE) check-layouts unit cross-arm64
	$(MAKE) -j2 -O e2e
	$(MAKE) $(ASAN) unit
	$(MAKE) $(ASAN) -j2 -O e2e

demo: $(BUILD)/mapscan
	sh testdata/samples/demo.sh $(BUILD)/mapscan

bench: $(BUILD)/mapscan
	python3 tests/bench.py --mapscan $(BUILD)/mapscan $(BENCH_FLAGS)

# gopls after an LSP session over the Delve source (issue 9's acceptance run).
bench-real: $(BUILD)/mapscan
	python3 tests/bench_real.py --mapscan $(BUILD)/mapscan

# Fuzzing with libFuzzer (clang, libclang-rt-14-dev): every harness of
# tests/fuzz/ for FUZZ_SECONDS seconds each, from the committed seeds;
# fails on a crash (tests/fuzz/run.sh).  `make fuzz-seeds` rewrites the
# generated seeds (the inputs fuzzing found, kept beside them as
# regression tests, stay).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BIN := $(patsubst %,build-fuzz/fuzz/fuzz_%,core exe flat dwarf dwarf_local heap classic swiss)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS='$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link' build-fuzz/libmapscan.a
	$(MAKE) CC=$(FUZZ_CC) $(FUZZ_BIN)

build-fuzz/fuzz/fuzz_dwarf_local: tests/fuzz/fuzz_dwarf.c tests/fuzz/fuzz.h tests/unit/elfbuild.h build-fuzz/libmapscan.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -DFUZZ_IN_PROCESS -Itests/fuzz -o $@ $< build-fuzz/libmapscan.a $(LDLIBS)

build-fuzz/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/unit/elfbuild.h build-fuzz/libmapscan.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< build-fuzz/libmapscan.a $(LDLIBS)

fuzz-seeds: $(BUILD)/libmapscan.a
	@mkdir -p $(BUILD)/fuzz
	$(CC) $(CFLAGS) -Itests/fuzz -o $(BUILD)/fuzz/mkseeds tests/fuzz/mkseeds.c $(BUILD)/libmapscan.a $(LDLIBS)
	gcc -O2 -gdwarf-5 -o $(BUILD)/fuzz/seed-prog tests/fuzz/seed.c
	$(BUILD)/fuzz/mkseeds tests/fuzz/corpus $(BUILD)/fuzz/seed-prog


# bin/mapscan, the man page and the docs it points to.  The man page names
# DOCDIR where it says where the docs are.
install: $(BUILD)/mapscan
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(BUILD)/mapscan $(DESTDIR)$(BINDIR)/mapscan
	sed 's|/usr/local/share/doc/mapscan|$(DOCDIR)|g' man/mapscan.1 >$(DESTDIR)$(MANDIR)/man1/mapscan.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/mapscan.1
	$(INSTALL) -m 644 README.md docs/json.md docs/figures.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mapscan $(DESTDIR)$(MANDIR)/man1/mapscan.1
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/json.md $(DESTDIR)$(DOCDIR)/figures.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# A mapscan to drop into a debug container: every library linked in
# statically but glibc and cJSON (Debian ships no static cJSON), which
# comes along in the same directory and is found through $$ORIGIN.
# Needs glibc 2.36 or later (Debian 12, Ubuntu 22.10) where it runs.
static:
	$(MAKE) BUILD=build-static STATIC=1 build-static/mapscan
	cp -L $$(ldconfig -p | sed -n 's/^.*libcjson\.so\.1 .*=> //p' | head -1) build-static/
	@echo "build-static/: mapscan and $$(cd build-static && ls libcjson*); ldd build-static/mapscan:"
	@ldd build-static/mapscan

clean:
	rm -rf build build-asan build-static build-fuzz
