# pycore — post-mortem memory toolkit for Python.
#
#   make            build bin/pycore-capture, bin/pycore-report, bin/pycore-diff
#   make demo       install build packages if missing, capture a leaking demo
#   make test       install build/test packages if missing, run the whole suite
#                   (then again built with ASan + UBSan, in build/asan)
#   make stress     the capture's long runs: 200 snapshots of a busy target,
#                   50 SIGKILLed captures per interpreter (tests/stress)
#   make fuzz       FUZZ_SECONDS=60: run each libFuzzer harness (clang)
#   make bench      capture benchmarks against gdb's gcore, then pycore-report
#                   on a core of ~10 million objects against an in-process census
#   make layouts    regenerate the built-in layout tables (analyze/layouts/)
#   make install    PREFIX=/usr/local DESTDIR= : binaries and man pages
#   make clean

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= gcc
PKGS      := libelf libdw liblz4
CFLAGS    ?= -O2 -g
# '=' not ':=': pkg-config runs when a rule needs it, after `make deps`.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -DPYCORE_VERSION='"$(VERSION)"' \
             -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
LDLIBS     = $(PKG_LIBS) -lpthread

# Objects, test programs and tools go to BUILD, the programs to BINDIR: a
# second build (the sanitizer one of `make test`) uses other directories.
BUILD  ?= build
BINDIR ?= bin

COMMON_SRC  := $(wildcard common/*.c)
CAPTURE_SRC := $(filter-out gcore/capture_main.c,$(wildcard gcore/*.c))
# analyze/layouts/: the generated built-in layout tables (probe.c is the
# generator's input, compiled against CPython headers, never linked).
ANALYZE_SRC := $(wildcard analyze/*.c) \
               $(filter-out analyze/layouts/probe.c,$(wildcard analyze/layouts/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

PROGRAMS := $(BINDIR)/pycore-capture $(BINDIR)/pycore-report $(BINDIR)/pycore-diff
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TEST_TOOLS := $(BUILD)/tools/coreread $(BUILD)/tools/heapdump $(BUILD)/tools/layoutdump
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps demo test stress unit-tests sanitized bench install clean layouts fuzz fuzzers
all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The capture runs the analysis on the live process for its python note.
$(BINDIR)/pycore-capture: $(call obj,gcore/capture_main.c $(CAPTURE_SRC) $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

DIFF_ONLY  := report/diff_main.c report/render_diff.c
REPORT_SRC := $(filter-out $(DIFF_ONLY),$(wildcard report/*.c))

$(BINDIR)/pycore-report: $(call obj,$(REPORT_SRC) $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/pycore-diff: $(call obj,$(DIFF_ONLY) report/html_page.c report/render_json.c report/cliopts.c $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link the library parts of every module (no main()s).
$(BUILD)/tests/%: $(call obj,tests/unit/%.c $(CAPTURE_SRC) $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit-tests: $(UNIT_BIN) $(TEST_TOOLS)

# Small programs that let the integration tests drive library parts.
$(BUILD)/tools/%: $(call obj,tests/tools/%.c $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The layout resolver on the command line (scripts/gen-layouts, tests).
$(BUILD)/tools/layoutdump: $(call obj,scripts/layoutdump.c $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Regenerate analyze/layouts/layout_3_X.c from the pyenv builds' headers
# (not part of `all`: the tables are checked in).
layouts:
	@scripts/gen-layouts

# Packages the build and the suite need; installed with apt-get when root.
deps:
	@scripts/install-deps

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo/run-demo

# The suite runs twice: as built, then built with AddressSanitizer and
# UndefinedBehaviorSanitizer into build/asan (tests/run's second pass).
SANITIZE_CFLAGS := -O2 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                   -fno-sanitize-recover=undefined
sanitized:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan BINDIR=$(BUILD)/asan/bin \
		CFLAGS="$(SANITIZE_CFLAGS)" all unit-tests

test: deps
	@$(MAKE) --no-print-directory all unit-tests sanitized
	@tests/run

stress: deps
	@$(MAKE) --no-print-directory all unit-tests
	@tests/stress

# Fuzzing (issue #7): libFuzzer harnesses (tests/fuzz/fuzz_*.c) for the
# parts that read untrusted bytes, built by clang with ASan and UBSan into
# build/fuzz; each runs FUZZ_SECONDS on fresh seeds and the kept
# regression inputs (tests/fuzz/run); FUZZ_ONLY="fuzz_heap fuzz_layout"
# runs only those.
FUZZ_SECONDS ?= 60
FUZZ_ONLY    ?=
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzzers/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzzers/%: $(call obj,tests/fuzz/%.c $(ANALYZE_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The seccomp filter runner is the capture's, not the analysis's.
$(BUILD)/fuzzers/fuzz_seccomp: $(call obj,tests/fuzz/fuzz_seccomp.c gcore/seccomp.c gcore/procfs.c $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzzers: $(FUZZ_BIN)

fuzz: deps
	@scripts/install-deps clang
	@$(MAKE) --no-print-directory all $(BUILD)/tools/layoutdump
	@$(MAKE) --no-print-directory CC=clang BUILD=$(BUILD)/fuzz CFLAGS="$(FUZZ_CFLAGS)" fuzzers
	@FUZZ_ONLY="$(FUZZ_ONLY)" LAYOUTDUMP=$(BUILD)/tools/layoutdump \
		tests/fuzz/run $(BUILD)/fuzz/fuzzers $(FUZZ_SECONDS)

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/capture-bench; c=$$?; bench/report-bench; r=$$?; [ $$c -eq 0 ] && [ $$r -eq 0 ]

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD) bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
