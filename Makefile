# Front door: the real build is meson + ninja (see README).  Each target
# installs what it needs first, so these work on a fresh Debian 12 machine.
BUILD       ?= build
CHECK_BUILD ?= build-check
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?=
E2E_BUILD   ?= build-e2e
MESON_FLAGS ?=
PREFIX      ?= /usr/local
DESTDIR     ?=

.PHONY: all deps demo check bench fuzz e2e e2e-bench install clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_FLAGS)

demo: all
	./scripts/demo.sh $(BUILD)

# Every test under ASan + UBSan; the last line says "N passed, N failed".
check: deps $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	@meson test -C $(CHECK_BUILD) --print-errorlogs --num-processes 2 >$(CHECK_BUILD)/test-output.txt 2>&1; \
	  status=$$?; tail -n 40 $(CHECK_BUILD)/test-output.txt; \
	  python3 scripts/test-summary.py $(CHECK_BUILD)/meson-logs/testlog.json || status=1; \
	  exit $$status

# The programs, libpvpci (shared and static), its headers and pvpci.pc
# under PREFIX, staged below DESTDIR when given (README: Install).
install: deps $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

bench: all
	./scripts/bench.sh $(BUILD)

# The libFuzzer targets (tests/fuzz), built with clang in $(FUZZ_BUILD);
# FUZZ_SECONDS=N runs each N seconds and prints its executions and crashes.
fuzz: deps
	@tests/fuzz/fuzz.sh $(if $(FUZZ_SECONDS),run,build) $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The real Linux xen-pcifront in a PV domU under the real Xen, in QEMU
# (tests/e2e; README: End-to-end under real Xen).  Minutes; the last line
# says "N passed, N failed" of its scenarios, $(E2E_BUILD)/e2e.tap has them.
e2e: deps
	@E2E_BUILD=$(E2E_BUILD) tests/e2e/e2e.sh run

# Config-space reads from the domU through the kernel's pciback and pvpcid.
e2e-bench: deps
	@E2E_BUILD=$(E2E_BUILD) tests/e2e/e2e.sh bench

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD) $(E2E_BUILD)
