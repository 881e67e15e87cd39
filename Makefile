# libengram - build, install, test, bench.
#
#   make demo        build and run the main job (the bundled default model)
#   make test        every test: Swift, C (against the installed header + library), Python
#   make install PREFIX=/some/where
#   make bench       benchmarks, each printed as a ratio against its peer measured in the same run
#
# `make setup` (run by demo/test/bench) installs the apt packages and the Python virtual
# environment (.venv) the project needs; it is a no-op when they are already there.

PREFIX    ?= /usr/local
SWIFT     ?= swift
SWIFTPM_RELEASE := -c release -Xswiftc -static-stdlib
RELEASE   := .build/release
STAGE     := $(CURDIR)/build/stage
VENV      := $(CURDIR)/.venv
PY        := $(VENV)/bin/python
VERSION   := $(shell sed -n 's/^\#define ENGRAM_VERSION_STRING "\(.*\)"/\1/p' include/engram.h)

.PHONY: all build setup install stage test test-swift test-c test-python test-selfcontained demo bench clean fuzz

all: build

setup:
	@scripts/setup.sh

build:
	$(SWIFT) build $(SWIFTPM_RELEASE)

# Installs lib/libengram.so (stripped), include/engram.h, lib/pkgconfig/engram.pc, bin/engram
# and the default model (share/engram/model).
install: build
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(RELEASE)/libengram.so $(DESTDIR)$(PREFIX)/lib/libengram.so
	strip --strip-unneeded $(DESTDIR)$(PREFIX)/lib/libengram.so
	install -m 0644 include/engram.h $(DESTDIR)$(PREFIX)/include/engram.h
	install -m 0755 $(RELEASE)/engram-cli $(DESTDIR)$(PREFIX)/bin/engram
	strip $(DESTDIR)$(PREFIX)/bin/engram
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' engram.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/engram.pc
	install -d $(DESTDIR)$(PREFIX)/share/engram/model
	install -m 0644 examples/model/* $(DESTDIR)$(PREFIX)/share/engram/model/

# A private install tree the C and Python tests run against.
stage:
	@$(MAKE) --no-print-directory install PREFIX=$(STAGE) > build-stage.log 2>&1 || { cat build-stage.log; exit 1; }
	@echo "staged libengram $(VERSION) in $(STAGE) ($$(stat -c %s $(STAGE)/lib/libengram.so) bytes stripped)"

test: setup stage
	@scripts/run-tests.sh

demo: setup stage
	@scripts/demo.sh

bench: setup stage
	@scripts/bench.sh

clean:
	rm -rf .build build build-stage.log

# Fuzzing (libFuzzer + AddressSanitizer): FUZZ_SECONDS per target (default 600),
# FUZZ_TARGETS to choose (default: every fuzz/corpus/<target>).
fuzz:
	@fuzz/run.sh

# ThreadSanitizer: libengram built with -sanitize=thread (.build/tsan), test_threads under it.
tsan:
	@tests/tsan.sh

# valgrind on the C tests and examples, and the 1000x load/free resident-size check.
memcheck: stage
	@tests/memcheck.sh
.PHONY: tsan memcheck
