# dblab-rds-refresh — GNU make build.
#
# Everything is found by wildcard so that adding a command, a common/ module or a
# test never needs an edit here:
#   common/*/*.c          -> $(BUILD)/libcommon.a (built once, linked by every command);
#                            one folder per concept (core, config, aws, rds, dblab, app,
#                            lambda), included as "core/err.h" (docs/architecture.md)
#   cmds/NAME.c           -> $(BIN)/NAME
#   cmds/NAME.sh          -> $(BIN)/NAME          (POSIX sh commands, e.g. the driver)
#   tests/unit/test_*.c   -> $(BUILD)/tests/test_* (Check unit tests)
#   tests/integration/*   -> run by tests/run-integration (against the emulators)
#   tests/fuzz/fuzz_*.c   -> a libFuzzer harness (make fuzz) and an ASan replay of its
#                            corpus and past crashes (make check); docs/fuzzing.md

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
BIN     ?= bin
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS      := libcurl yaml-0.1 libcjson libcrypto libxml-2.0
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

CC      ?= cc
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-format-nonliteral
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -Icommon $(PKG_CFLAGS) \
           -DDRR_VERSION='"$(VERSION)"' -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS  += $(PKG_LIBS) -lm

# make SAN=1 (used by `make asan`): AddressSanitizer + UBSan, any report is fatal.
# float-cast-overflow is UBSan's, but gcc leaves it out of "undefined" (clang
# does not): a JSON 1e300 cast to an integer type must be a report here too.
ifeq ($(SAN),1)
  OPT     := -O1 -g -fno-omit-frame-pointer
  HARDEN  := -fPIE
  CFLAGS  += -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif

# Quiet build lines ("CC common/core/log.c"); `make V=1` shows the full commands.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
endif

COMMON_SRC := $(wildcard common/*/*.c)
COMMON_OBJ := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRC))
LIBCOMMON  := $(BUILD)/libcommon.a

CMD_SRC    := $(wildcard cmds/*.c)
CMD_OBJ    := $(patsubst cmds/%.c,$(BUILD)/cmds/%.o,$(CMD_SRC))
CMD_BINS   := $(patsubst cmds/%.c,$(BIN)/%,$(CMD_SRC))
SCRIPT_SRC := $(wildcard cmds/*.sh)
SCRIPT_BINS:= $(patsubst cmds/%.sh,$(BIN)/%,$(SCRIPT_SRC))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT_SRC := $(wildcard tests/unit/support/*.c)
UNIT_SUPPORT_OBJ := $(patsubst tests/unit/support/%.c,$(BUILD)/tests/support/%.o,$(UNIT_SUPPORT_SRC))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.SECONDARY:
.PHONY: all check unit integration asan valgrind deps install clean demo lint lint-test format help image image-push \
	man deb setup \
        fuzz fuzz-build fuzz-replay fuzz-replay-san
.DEFAULT_GOAL := all

# rds-refresh: the Go original's name for the driver (its cron lines, Docker and
# Kubernetes examples call it), the same program.
ALIAS_BINS := $(BIN)/rds-refresh

all: $(CMD_BINS) $(SCRIPT_BINS) $(ALIAS_BINS)

$(BIN)/rds-refresh: $(BIN)/dblab-rds-refresh
	$(call say,LN,$@)
	$(Q)ln -sf dblab-rds-refresh $@

$(BUILD)/common/%.o: common/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmds/%.o: cmds/%.c | $(BUILD)/cmds
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/support/%.o: tests/unit/support/%.c | $(BUILD)/tests/support
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit/support -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c | $(BUILD)/tests
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit/support -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN)/%: $(BUILD)/cmds/%.o $(LIBCOMMON) | $(BIN)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LDLIBS)

$(BIN)/%: cmds/%.sh | $(BIN)
	$(call say,SCRIPT,$@)
	$(Q)cp $< $@
	$(Q)chmod 0755 $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(UNIT_SUPPORT_OBJ) $(LIBCOMMON)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT_OBJ) $(LIBCOMMON) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/common $(BUILD)/cmds $(BUILD)/tests $(BUILD)/tests/support $(BIN):
	$(Q)mkdir -p $@

# The unit tests run from the top of the tree (they read tests/fixtures and
# ../shared/reference); CK_FORK=yes keeps one crashing test from hiding the rest.
unit: $(UNIT_BINS)
	@echo "== unit tests ($(words $(UNIT_BINS)) programs)"
	@status=0; for t in $(UNIT_BINS); do \
	  CK_FORK=yes DRR_SHARED_DIR="$(SHARED_DIR)" ./$$t || status=1; \
	done; exit $$status

# Integration tests start the local emulators and drive the built commands.
integration: all
	DRR_BIN="$(abspath $(BIN))" DRR_SHARED_DIR="$(SHARED_DIR)" tests/run-integration

# `make check` and `make demo` alone set a fresh Debian 12 machine up: what is
# missing is installed by `make deps` when root; otherwise the one apt-get line is
# printed and nothing else runs. Then the build, then the tests (or the demo).
check: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit lint-test fuzz-replay-san integration

# The whole suite again under AddressSanitizer + UBSan, in its own build tree.
asan:
	$(MAKE) SAN=1 BUILD=build/asan BIN=build/asan/bin check

# valgrind over the commands' normal and error paths (tests/valgrind).
valgrind: all
	DRR_BIN="$(abspath $(BIN))" tests/run-valgrind

demo: setup
	@$(MAKE) --no-print-directory all
	@tests/demo

# ---- fuzzing (docs/fuzzing.md) ----------------------------------------------
# Every tests/fuzz/fuzz_NAME.c is one harness. Two builds of each:
#  - $(BUILD)/fuzz/replay_NAME: gcc, with tests/fuzz/replay_main.c instead of
#    libFuzzer; runs every file of tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME
#    once. `make check` runs it under ASan + UBSan (the build/asan tree).
#  - build/libfuzzer/fuzz_NAME: clang -fsanitize=fuzzer,address,undefined, for
#    `make fuzz` (FUZZ_SECONDS per target, FUZZ_TARGETS to pick some).
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 180
FUZZ_FLAGS   ?=
FUZZ_CC      ?= clang
FUZZ_OUT     := build/libfuzzer
REPLAY_BINS  := $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_ALL))

$(BUILD)/fuzz/%.o: tests/fuzz/%.c | $(BUILD)/fuzz
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -c -o $@ $<

$(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/support.o $(BUILD)/fuzz/replay_main.o \
                       $(LIBCOMMON)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCOMMON) $(LDLIBS)

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

fuzz-replay: $(REPLAY_BINS)
	@echo "== fuzz corpora and past crashes ($(words $(REPLAY_BINS)) harnesses)"
	@status=0; for t in $(FUZZ_ALL); do \
	  ./$(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t tests/fuzz/regress/$$t || status=1; \
	done; exit $$status

# `make check` replays under the sanitizers whatever tree it builds.
ifeq ($(SAN),1)
fuzz-replay-san: fuzz-replay
else
fuzz-replay-san:
	$(MAKE) SAN=1 BUILD=build/asan BIN=build/asan/bin fuzz-replay
endif

FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(WARN) -Icommon -Itests/fuzz \
               $(PKG_CFLAGS) -DDRR_VERSION='"$(VERSION)"' \
               -fsanitize=address,undefined -fno-sanitize-recover=all -MMD -MP
FUZZ_COMMON_OBJ := $(patsubst common/%.c,$(FUZZ_OUT)/common/%.o,$(COMMON_SRC))

$(FUZZ_OUT)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(call say,CLANG,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/libcommon.a: $(FUZZ_COMMON_OBJ)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/support.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libcommon.a
	$(call say,CLANG,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/support.c \
	  $(FUZZ_OUT)/libcommon.a $(PKG_LIBS) -lm

fuzz-build: $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))

# Each target in turn, niced (a shared machine); new inputs go to
# $(FUZZ_OUT)/corpus/NAME, crashes to $(FUZZ_OUT)/artifacts/NAME/. A crash, a
# timeout (10 s) or running out of memory (2 GB) fails the target.
fuzz: fuzz-build
	@status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_OUT)/corpus/$$t $(FUZZ_OUT)/artifacts/$$t; \
	  dict=; [ -f tests/fuzz/dict/$$t.dict ] && dict=-dict=tests/fuzz/dict/$$t.dict; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  nice -n 15 ./$(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/artifacts/$$t/ \
	    $$dict $(FUZZ_FLAGS) $(FUZZ_OUT)/corpus/$$t tests/fuzz/corpus/$$t \
	    >$(FUZZ_OUT)/$$t.log 2>&1 || { status=1; echo "fuzz $$t FAILED:"; tail -40 $(FUZZ_OUT)/$$t.log; }; \
	  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^#[0-9]+[[:space:]]+DONE' \
	    $(FUZZ_OUT)/$$t.log | tr '\n' ' '; echo; \
	done; exit $$status

SHARED_DIR ?= $(abspath $(firstword $(wildcard ../shared ../../shared) ../shared))

DEB_PACKAGES := build-essential clang libclang-rt-14-dev pkg-config libcurl4-openssl-dev libyaml-dev libcjson-dev \
  libssl-dev libxml2-dev check valgrind python3 python3-botocore python3-jsonschema \
  python3-yaml python3-jinja2 awscli shellcheck util-linux procps ca-certificates openssl \
  curl jq nodejs cron help2man lintian dpkg-dev man-db file clang-format

# What `make deps` would install that is not there (Debian packages, the npm test tools).
MISSING = $(shell for p in $(DEB_PACKAGES); do \
  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done; \
  [ -d tests/node/node_modules ] || echo tests/node/node_modules)

setup:
	@missing="$(strip $(MISSING))"; \
	if [ -n "$$missing" ]; then \
	  echo "make: missing: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps; \
	  elif [ "$$missing" = tests/node/node_modules ]; then cd tests/node && npm ci --no-audit --no-fund; \
	  else echo "make: as root, run:"; \
	    echo "  apt-get update && apt-get install -y --no-install-recommends $(DEB_PACKAGES)"; \
	    exit 1; fi; \
	fi

deps:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "make deps: run as root, or run:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y $(DEB_PACKAGES)"; \
	  exit 1; \
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)
	@# Test-only npm tools (the HCL2 parser for the Nomad job), pinned by package-lock.json.
	@# nodejs from some vendors bundles npm; Debian's is the separate npm package.
	command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
	cd tests/node && npm ci --no-audit --no-fund

# The C style: .clang-format (clang-format 14, Debian 12's), checked by `make lint`,
# applied by `make format`.
C_STYLE_SRC := $(wildcard common/*/*.[ch] cmds/*.c tests/unit/*.c tests/unit/support/*.[ch] \
                 tests/fuzz/*.[ch] tests/bench/*.c)
format:
	clang-format -i $(C_STYLE_SRC)

# tests/lint/checksrc.py: the project's C rules a formatter cannot see (banned calls,
# includes by folder and their direction, the ownership naming rule, header guards,
# ...; docs/architecture.md). Its own tests run in `make check` (lint-test).
lint:
	clang-format --dry-run -Werror $(C_STYLE_SRC)
	/usr/bin/python3 tests/lint/checksrc.py
	shellcheck -s sh cmds/*.sh tests/run-valgrind packaging/deb/*.sh packaging/man/*.sh
	shellcheck -s bash packaging/completion/*.bash
	shellcheck tests/run-integration tests/demo
	shellcheck -x -S warning -s bash tests/lib/*.sh tests/integration/*.sh tests/valgrind/*.sh \
	  tests/bench/*.sh
	/usr/bin/python3 -m py_compile tests/emulators/*.py tests/emulators/*/*.py \
	  tests/emulators/run-emulators tests/integration/*.py tests/lib/*.py tests/bench/*.py \
	  tests/fuzz/seeds/*.py tests/lint/*.py \
	  wrappers/airflow/*.py

lint-test:
	@echo "== tests/lint/test_checksrc.py"
	@/usr/bin/python3 tests/lint/test_checksrc.py

# The container image (Dockerfile). deploy/k8s/cronjob.yaml runs IMAGE:VERSION from
# the registry it was pushed to (tests/integration/test_wrapper_deploy.py checks it).
#   make image                          docker build -t dblab-rds-refresh:VERSION .
#   make image-push REGISTRY=HOST/PATH  tag and push REGISTRY/dblab-rds-refresh:VERSION
IMAGE ?= dblab-rds-refresh
image:
	docker build -t $(IMAGE):$(VERSION) .

image-push:
	@test -n "$(REGISTRY)" || { echo "usage: make image-push REGISTRY=<registry host>/<path>" >&2; exit 64; }
	$(MAKE) image
	docker tag $(IMAGE):$(VERSION) $(REGISTRY)/$(IMAGE):$(VERSION)
	docker push $(REGISTRY)/$(IMAGE):$(VERSION)

# ---- man pages, shell completion, install, Debian package ----------------------
# Man pages: made at build time by Debian's help2man from each command's own
# -help/-version (packaging/man/help2man.sh); rds-refresh.1 is a .so link.
MAN_CMDS  := $(patsubst cmds/%.c,%,$(CMD_SRC)) $(patsubst cmds/%.sh,%,$(SCRIPT_SRC))
MAN_PAGES := $(patsubst %,$(BUILD)/man/%.1,$(MAN_CMDS)) $(BUILD)/man/rds-refresh.1
COMPLETION_NAMES := $(filter-out lambda-bootstrap,$(MAN_CMDS)) rds-refresh

man: $(MAN_PAGES)

$(BUILD)/man/%.1: $(BIN)/% packaging/man/help2man.sh packaging/man/common.h2m | $(BUILD)/man
	$(call say,MAN,$@)
	$(Q)packaging/man/help2man.sh $(BIN) $* $(VERSION) $@

$(BUILD)/man/rds-refresh.1: | $(BUILD)/man
	$(Q)echo '.so man1/dblab-rds-refresh.1' >$@

$(BUILD)/man:
	$(Q)mkdir -p $@

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dblab-rds-refresh \
	  $(DESTDIR)$(PREFIX)/share/doc/dblab-rds-refresh $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(CMD_BINS) $(SCRIPT_BINS) $(DESTDIR)$(PREFIX)/bin/
	ln -sf dblab-rds-refresh $(DESTDIR)$(PREFIX)/bin/rds-refresh
	cp -R wrappers examples $(DESTDIR)$(PREFIX)/share/dblab-rds-refresh/
	find $(DESTDIR)$(PREFIX)/share/dblab-rds-refresh -name __pycache__ -prune -exec rm -rf {} +
	install -m 0644 README.md docs/*.md docs/*.json $(DESTDIR)$(PREFIX)/share/doc/dblab-rds-refresh/
	for m in $(MAN_PAGES); do gzip -9n <$$m >$(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$m).gz; done
	install -m 0644 packaging/completion/dblab-rds-refresh.bash \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dblab-rds-refresh
	for c in $(filter-out dblab-rds-refresh,$(COMPLETION_NAMES)); do \
	  ln -sf dblab-rds-refresh $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$c; done

# A Debian package with dpkg's own tools (dpkg-shlibdeps, dpkg-deb), checked by
# lintian: packaging/deb/build-deb.sh. Output: $(BUILD)/deb/*.deb.
deb: all man
	packaging/deb/build-deb.sh $(VERSION) $(BUILD)/deb

clean:
	rm -rf build $(BIN)

help:
	@echo "targets: all check unit integration asan valgrind demo deps install man deb clean lint format fuzz"

-include $(COMMON_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BINS:=.d) $(UNIT_SUPPORT_OBJ:.o=.d) \
  $(wildcard $(BUILD)/fuzz/*.d) $(wildcard $(FUZZ_OUT)/common/*/*.d) $(wildcard $(FUZZ_OUT)/*.d)
