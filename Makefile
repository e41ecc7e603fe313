# Front door: the real build is meson + ninja (see README).  Each target
# installs what it needs first, so these work on a fresh Debian 12 machine.
BUILD       ?= build
CHECK_BUILD ?= build-check
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?=
MESON_FLAGS ?=
PREFIX      ?= /usr/local
DESTDIR     ?=

.PHONY: all deps demo check bench fuzz install clean

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

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD)
