# execguard — see README.md. Plain make: explicit sources, outputs in build/.
VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     := $(PREFIX)/sbin
MANDIR     := $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /etc/systemd/system
# The file capabilities `execguard run` uses for no_new_privs = no and capabilities =
# (see privs.h); NO_SETCAP=1 skips them (a package sets them in its postinst).
FILECAPS   := cap_sys_admin,cap_setpcap+p

CC         ?= cc
PKG_CONFIG ?= pkg-config
B          := build

# Quiet when a package is missing: `make shell` and `make check` install it first (and read
# this file again); a plain make then fails on the missing header, by name.
PKGS       := libseccomp libcrypto libcap libsystemd libbpf
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

WARNINGS   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wswitch-enum -Wno-format-nonliteral
# CPPFLAGS, CFLAGS and LDFLAGS from the caller (dpkg-buildflags sets all three) come first;
# ours are appended.
CFLAGS     ?= -O2 -g
HARDEN     := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
override CFLAGS += -std=gnu11 $(WARNINGS) $(HARDEN) -D_GNU_SOURCE \
                   -DEXECGUARD_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP
LDFLAGS    ?=
override LDFLAGS += -pie -Wl,-z,relro,-z,now

# Every module but main.c goes into a static library that the tests link too.
LIB_SRCS   := src/audit.c src/binfmt.c src/check.c src/creds.c src/daemon.c src/elf.c src/fds.c src/fileop.c src/filter.c src/fscreds.c src/hostcheck.c src/identity.c src/ini.c src/json.c src/judge.c \
              src/kverify.c src/latency.c src/learn.c src/loader.c src/log.c src/login.c src/notify.c src/privs.c src/procinfo.c src/protocol.c \
              src/policy.c src/procmem.c src/procstatus.c src/protect.c \
              src/resolve.c src/rulewatch.c src/run.c src/shebang.c src/supervise.c src/table.c src/tell.c src/verify.c \
              src/trusted.c src/utf8.c src/wallclock.c src/workers.c
LIB_OBJS   := $(LIB_SRCS:src/%.c=$(B)/%.o)
LIB        := $(B)/libexecguard.a
BIN        := $(B)/execguard

UNIT_SRCS  := tests/unit/test_main.c tests/unit/test_policy.c tests/unit/test_resolve.c \
              tests/unit/test_shebang.c tests/unit/test_procmem.c tests/unit/test_filter.c \
              tests/unit/test_audit.c tests/unit/test_loader.c tests/unit/test_latency.c tests/unit/tmpdir.c \
              tests/unit/policytext.c tests/unit/test_rules.c tests/unit/test_judge.c \
              tests/unit/test_log.c tests/unit/test_verify.c tests/unit/test_binfmt.c tests/unit/test_json.c \
              tests/unit/test_protect.c
UNIT_OBJS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%.o)
UNIT_BIN   := $(B)/unit-tests

HELPER_SRCS := $(wildcard tests/e2e/helpers/*.c)
HELPERS     := $(HELPER_SRCS:tests/e2e/helpers/%.c=$(B)/helpers/%) $(B)/helpers/marker-static
SOAK_EXEC   := $(B)/soak/soak-exec
FLOOD_EXEC  := $(B)/soak/flood-exec
# make soak: the full soak (tests/soak/soak.sh); check-soak, part of check, a short one.
SOAK_SESSIONS ?= 64
SOAK_EXECS    ?= 2000
# make bench: the benchmark (bench/bench.py); its drivers, and the floor supervisor, which
# links execguard's own filter from the library.
BENCH_B       := $(B)/bench
BENCH_DRIVERS := $(BENCH_B)/floor $(BENCH_B)/exec-micro $(BENCH_B)/spawn $(BENCH_B)/timeit $(BENCH_B)/fileops

# Fuzzing (tests/fuzz/README.md): libFuzzer targets built with clang, ASan and UBSan, in a
# build directory of their own, since every object of the library is compiled differently.
FB           := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= policy shebang loader resolve json
# No _FORTIFY_SOURCE: its checked copies of libc functions bypass ASan's interceptors.
# -fno-sanitize-recover: a UBSan report is a crash, as an ASan one is.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(WARNINGS) -D_GNU_SOURCE -DEXECGUARD_VERSION='"$(VERSION)"' \
                $(PKG_CFLAGS) -MMD -MP $(FUZZ_SAN)
FUZZ_LIB_OBJS := $(LIB_SRCS:src/%.c=$(FB)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

.PHONY: all shell check check-suite check-unit check-e2e check-fuzz fuzz check-faults check-soak soak check-asan check-asan-quick check-tsan tsan-build check-flood flood \
        asan-build check-valgrind check-valgrind-quick bench install uninstall deb deb-build check-deb clean \
        format check-format
all: $(BIN)

$(B)/%.o: src/%.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The kernel engine's BPF program (src/bpf/), built with clang for the BPF target and
# embedded in the library as a libbpf skeleton (bpftool gen skeleton).
BPF_CC     ?= clang
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
              -I/usr/include/$(shell $(CC) -dumpmachine 2>/dev/null)
$(B)/kverify.bpf.o: src/bpf/kverify.bpf.c src/kverify_abi.h | $(B)
	$(BPF_CC) $(BPF_CFLAGS) -c -o $@ $<

$(B)/kverify.skel.h: $(B)/kverify.bpf.o
	bpftool gen skeleton $< name kverify_bpf > $@.tmp && mv $@.tmp $@

$(B)/kverify.o $(FB)/kverify.o: $(B)/kverify.skel.h
$(B)/kverify.o $(FB)/kverify.o: override CFLAGS += -iquote $(B)
$(FB)/kverify.o: override FUZZ_CFLAGS += -iquote $(B)

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

# Objects linked into the programs of one build only (the sanitizer build's, see check-asan).
EXTRA_OBJS :=

$(BIN): $(B)/main.o $(LIB) $(EXTRA_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%.o: tests/unit/%.c | $(B)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -iquote src -c -o $@ $<

$(UNIT_BIN): $(UNIT_OBJS) $(LIB) $(EXTRA_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# Test helpers: small programs that each perform one exec variant or one attack.
$(B)/helpers/%: tests/e2e/helpers/%.c | $(B)/helpers
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# A static marker runs in a bare chroot.
$(B)/helpers/marker-static: tests/e2e/helpers/marker.c | $(B)/helpers
	$(CC) $(CFLAGS) -static -o $@ $<

# The flood's load: threads that exec a blocked program at once.
$(FLOOD_EXEC): tests/soak/flood-exec.c | $(B)/soak
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The soak's load: fork+execve of an allowed and a blocked program, alternately.
$(SOAK_EXEC): tests/soak/soak-exec.c | $(B)/soak
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The benchmark: not part of check (its figures mean something only on a quiet machine).
$(BENCH_B)/floor: bench/floor.c $(LIB) | $(BENCH_B)
	$(CC) $(CFLAGS) -iquote src $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(BENCH_B)/%: bench/%.c | $(BENCH_B)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: $(BIN) $(BENCH_DRIVERS) $(B)/helpers/fuse-stall
	python3 bench/bench.py $(abspath $(BIN)) $(abspath $(BENCH_B)) $(abspath $(B)/bench.json)

$(B) $(B)/tests $(B)/helpers $(B)/soak $(BENCH_B):
	mkdir -p $@

# The library again, instrumented for coverage (fuzzer-no-link: libFuzzer's main is linked
# into the targets only).
$(FB)/%.o: src/%.c | $(FB)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/libexecguard.a: $(FUZZ_LIB_OBJS)
	$(AR) rcs $@ $^

$(FB)/fuzz/%.o: tests/fuzz/%.c | $(FB)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -iquote src -c -o $@ $<

$(FUZZ_BINS): $(FB)/fuzz_%: $(FB)/fuzz/fuzz_%.o $(FB)/fuzz/scratch.o $(FB)/libexecguard.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

$(FB)/fuzz:
	mkdir -p $@

# README's two commands. Each first installs what it needs when run as root and something is
# missing (scripts/install-deps: the one list of Debian packages), then goes on in a make that
# reads this file again, since pkg-config's answers may have changed.
shell:
	scripts/install-deps build
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) run -c policy/execguard.ini -- bash

check:
	scripts/install-deps test
	@$(MAKE) --no-print-directory check-suite

# The suite: a quick form of the fuzzing, the soak and the two memory proofs with the rest.
check-suite: check-unit check-e2e check-fuzz check-soak check-flood check-asan-quick check-valgrind-quick

check-unit: $(UNIT_BIN)
	$(UNIT_BIN)

check-e2e: $(BIN) $(HELPERS)
	tests/e2e/run.sh $(abspath $(BIN)) $(abspath $(B)/helpers)

# The fault injection cases of the end-to-end suite alone (tests/e2e/faults.sh).
check-faults: $(BIN) $(HELPERS)
	EXECGUARD_E2E_ONLY=faults tests/e2e/run.sh $(abspath $(BIN)) $(abspath $(B)/helpers)

SOAK_DEPS := $(BIN) $(B)/helpers/marker $(B)/helpers/syslog-sink $(SOAK_EXEC)
SOAK_ARGS := $(abspath $(BIN)) $(abspath $(B)/helpers) $(abspath $(SOAK_EXEC))

check-soak: $(SOAK_DEPS)
	SOAK_SESSIONS=8 SOAK_EXECS=200 tests/soak/soak.sh $(SOAK_ARGS)

soak: $(SOAK_DEPS)
	SOAK_SESSIONS=$(SOAK_SESSIONS) SOAK_EXECS=$(SOAK_EXECS) tests/soak/soak.sh $(SOAK_ARGS)

# The daemon under a flood: FLOOD_SESSIONS sessions with FLOOD_PENDING execs pending at once
# each (tests/soak/flood.sh); check-flood, part of check, a small one.
FLOOD_DEPS := $(BIN) $(B)/helpers/marker $(B)/helpers/syslog-sink $(FLOOD_EXEC)
FLOOD_ARGS := $(abspath $(BIN)) $(abspath $(B)/helpers) $(abspath $(FLOOD_EXEC))
flood: $(FLOOD_DEPS)
	tests/soak/flood.sh $(FLOOD_ARGS)

check-flood: $(FLOOD_DEPS)
	FLOOD_SESSIONS=100 FLOOD_PENDING=16 tests/soak/flood.sh $(FLOOD_ARGS)

# execguard and the unit tests built with AddressSanitizer and UBSan in build-asan/, the
# whole suite run against them; any sanitizer report fails it (tests/asan.sh). The e2e
# helpers stay as they are: they are the attackers, not the code under test.
ASAN_B      := build-asan
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan-build:
	$(MAKE) B=$(ASAN_B) CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		EXTRA_OBJS=$(ASAN_B)/sanitizer-log.o $(ASAN_B)/execguard $(ASAN_B)/unit-tests

$(B)/sanitizer-log.o: tests/sanitizer-log.c | $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

check-asan: asan-build $(BIN) $(HELPERS)
	tests/asan.sh $(ASAN_B) $(B)/helpers

check-asan-quick: asan-build
	tests/asan.sh $(ASAN_B) $(B)/helpers quick

# The daemon's threads under ThreadSanitizer (build-tsan/): its e2e cases, a soak with
# workers = 2 and W5 of the benchmark; any report fails it (tests/tsan.sh). Root.
TSAN_B      := build-tsan
TSAN_CFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
tsan-build:
	$(MAKE) B=$(TSAN_B) CFLAGS="$(TSAN_CFLAGS)" LDFLAGS="-fsanitize=thread" $(TSAN_B)/execguard

check-tsan: tsan-build $(BIN) $(HELPERS) $(SOAK_EXEC) $(BENCH_DRIVERS)
	tests/tsan.sh $(TSAN_B) $(B)/helpers $(BENCH_B)

# The daemon under valgrind's memcheck through VALGRIND_SESSIONS sessions (default 1000):
# no error, no leak, no fd left open (tests/valgrind.sh). Root and valgrind.
check-valgrind: $(BIN) $(HELPERS)
	tests/valgrind.sh $(abspath $(BIN)) $(abspath $(B)/helpers)

check-valgrind-quick: $(BIN) $(HELPERS)
	VALGRIND_SESSIONS=$${VALGRIND_SESSIONS:-50} tests/valgrind.sh $(abspath $(BIN)) $(abspath $(B)/helpers)

# Replay the seed corpora and the regression inputs, then fuzz each target for FUZZ_SECONDS
# on a scratch copy of its corpus (the committed corpus never grows).
fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FB) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The quick form that check runs: the replays, then 10 s per target.
check-fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FB) 10 $(FUZZ_TARGETS)

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/execguard
	@if [ -z "$(NO_SETCAP)" ]; then \
		setcap $(FILECAPS) $(DESTDIR)$(BINDIR)/execguard || \
		{ echo "setcap failed (libcap2-bin installed? file system with xattrs?); NO_SETCAP=1 skips it" >&2; exit 1; }; \
	fi
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/execguard.service >$(DESTDIR)$(UNITDIR)/execguard.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/execguard.service
	install -D -m 0644 man/execguard.8 $(DESTDIR)$(MANDIR)/man8/execguard.8
	install -D -m 0644 man/execguard.ini.5 $(DESTDIR)$(MANDIR)/man5/execguard.ini.5
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/execguard.ini ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/execguard.ini"; \
	else \
		install -D -m 0644 policy/execguard.ini $(DESTDIR)$(SYSCONFDIR)/execguard.ini; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/execguard $(DESTDIR)$(MANDIR)/man8/execguard.8 \
	      $(DESTDIR)$(MANDIR)/man5/execguard.ini.5 $(DESTDIR)$(UNITDIR)/execguard.service

# The Debian package (README.md, "Debian package"). dpkg-buildpackage leaves its files
# beside the tree it builds, which would be this tree's parent directory: it builds a copy
# in build/deb/, and the .deb, .buildinfo and .changes stay there. Lintian errors fail it.
DEB_B       := $(B)/deb
DEB_SRCS    := Makefile README.md debian man policy src systemd tests
DEB_VERSION  = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_CHANGES  = $(DEB_B)/execguard_$(DEB_VERSION)_$(shell dpkg --print-architecture).changes
deb:
	scripts/install-deps deb
	@$(MAKE) --no-print-directory deb-build
deb-build:
	@[ "$(firstword $(subst -, ,$(DEB_VERSION)))" = "$(VERSION)" ] || \
		{ echo "debian/changelog is at $(DEB_VERSION), the Makefile at $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_B)
	mkdir -p $(DEB_B)/execguard-$(VERSION)
	cp -a $(DEB_SRCS) $(DEB_B)/execguard-$(VERSION)/
	cd $(DEB_B)/execguard-$(VERSION) && dpkg-buildpackage -b -uc -us
	rm -rf $(DEB_B)/execguard-$(VERSION)
	lintian --fail-on error $(DEB_CHANGES)
	@ls -1 $(DEB_B)/*.deb

# Root: installs the package make deb built, checks it, and purges it (tests/deb/check-deb.sh).
check-deb:
	tests/deb/check-deb.sh $(DEB_CHANGES:.changes=.deb)

clean:
	rm -rf $(B) $(ASAN_B) $(TSAN_B) $(FB)

FORMAT_FILES := $(wildcard src/*.c src/*.h src/bpf/*.c tests/*.c tests/unit/*.c tests/e2e/helpers/*.c tests/soak/*.c \
                tests/fuzz/*.c tests/fuzz/*.h bench/*.c bench/*.h)
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

-include $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/soak/*.d $(BENCH_B)/*.d $(FB)/*.d $(FB)/fuzz/*.d)
