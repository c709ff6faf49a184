# fanfilter: build, run, test, install.
#   sudo make run     build and run the agent in the foreground on the shipped default policy
#   sudo make test    build and run every test (kernel tests need root)
# The Swift toolchain: on PATH, else where this kind of machine keeps it.
SWIFT      ?= $(or $(shell command -v swift 2>/dev/null),$(wildcard /opt/swift/usr/bin/swift))
PREFIX     ?= /usr/local
DESTDIR    ?=
POLICY     ?=
CONFIG     ?= debug
BUILD_DIR   = $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path 2>/dev/null)
# Release builds link the Swift runtime statically: the installed agent needs
# no Swift toolchain, and it keeps about 3 MiB less resident. Where the
# toolchain has lld and glibc is 2.36 or later, they also pack the relative
# relocations (DT_RELR): the loader then writes about 1 MiB less at start.
RELR       := $(shell v=$$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc 2\.\([0-9]*\).*/\1/p'); \
                lld=$$(dirname "$$(command -v $(SWIFT))")/ld.lld; \
                [ -x "$$lld" ] && [ "$${v:-0}" -ge 36 ] && echo "-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs")
RELEASE     = -c release --static-swift-stdlib -Xswiftc -cross-module-optimization $(RELR)
RELEASE_BIN = $$($(SWIFT) build -c release --show-bin-path)

.PHONY: all swift deps deps-test deps-deb build release run test kernels kernel-subset stress check bench bench-allowlist bench-policy soak hotpath fuzz install install-files deb package uninstall clean

all: build

# The Swift toolchain must be there; the system packages are checked and, as
# root with apt-get, installed (tools/deps.sh says which and why).
swift:
	@if [ -z "$(SWIFT)" ]; then \
		echo "fanfilter: no Swift toolchain: swift is not on PATH and not in /opt/swift/usr/bin; install Swift 6.0 or later from https://www.swift.org/install/linux/ and put its usr/bin on PATH (or SWIFT=/path/to/swift)" >&2; exit 1; fi

deps: swift
	@bash tools/deps.sh build

deps-test: swift
	@bash tools/deps.sh test

build: deps
	$(SWIFT) build -c $(CONFIG)

release: deps
	$(SWIFT) build $(RELEASE) --product fanfilter
	$(SWIFT) build $(RELEASE) --product fanfilterd

# Where the release build puts its binaries (debian/rules asks).
print-release-bin:
	@echo $(RELEASE_BIN)

# What `make run` says before the agent starts, so nobody is surprised.
RUN_NOTE_DEFAULT = the default policy watches the filesystems of /tmp, /var/tmp, /dev/shm and /etc (on most machines that is /, so every open on it passes through the agent), denies execution from /tmp, /var/tmp and /dev/shm (also through the runtime linker), and logs reads of credential files by users other than root
RUN_NOTE_POLICY  = running $(POLICY): every filesystem its watch lines name passes through the agent while it runs
# The agent in the foreground; Ctrl-C stops it cleanly. POLICY=FILE runs another policy.
run: build
	@echo "fanfilter: $(if $(POLICY),$(RUN_NOTE_POLICY),$(RUN_NOTE_DEFAULT)); Ctrl-C stops it and removes every mark"
	$(BUILD_DIR)/fanfilter run $(if $(POLICY),--policy $(POLICY))

# The tests run in a private mount namespace: the tmpfs each kernel test mounts
# is never visible to the rest of the machine. Then the fs-verity tests again,
# in a virtual machine on Debian's kernel, where they may not skip (this
# machine's kernel is built without fs-verity; tools/kernel-vm.sh). Then the
# exactly-once subset on each of Debian's kernels (kernel-subset). Each VM step
# must show that its tests ran: a filter that matched none would pass silently.
test: deps-test
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory package
	unshare --mount --propagation private $(SWIFT) test --skip-build --disable-swift-testing
	bash tools/kernel-vm.sh --needs CONFIG_FS_VERITY -- env FANFILTER_REQUIRE_VERITY=1 unshare --mount --propagation private \
		$(BUILD_DIR)/fanfilterPackageTests.xctest FanFilterTests.VerityKernelTests > .build/verity-vm.log 2>&1; \
		status=$$?; cat .build/verity-vm.log; [ $$status -eq 0 ] || exit $$status; \
		bash tools/ran-tests.sh 2 .build/verity-vm.log
	$(MAKE) --no-print-directory kernel-subset

# Debian 11's, 12's and 13's kernels, each in a qemu guest (tools/kernel-vm.sh
# downloads them): kernel-subset runs the exactly-once checks there (start,
# deny and allow, deny an execution, timeout, overload, reload, clean stop:
# tools/kernel-tests.sh subset), make kernels every test, there and on this
# machine's kernel. Each prints the agent's start line: the features found.
KERNELS ?= bullseye bookworm trixie
kernel-subset:
	@for k in $(KERNELS); do \
		bash tools/kernel-vm.sh --kernel $$k --timeout 900 -- env FANFILTER_TEST_TIME_SCALE=4 FANFILTER_TEST_AUDITD=1 bash tools/kernel-tests.sh subset $(BUILD_DIR) > .build/kernel-$$k.log 2>&1; \
		status=$$?; grep -E '^kernel-(vm|tests):|Test Case .*(failed|skipped)|error:|Executed [0-9]+ tests' .build/kernel-$$k.log | tail -12; \
		[ $$status -eq 0 ] || { echo "kernel-subset: $$k failed (status $$status; .build/kernel-$$k.log)"; exit 1; }; \
		bash tools/ran-tests.sh 8 .build/kernel-$$k.log || exit 1; \
	done

# The stress scenarios at full size (make test runs them small): storms of
# 8 and 64 openers, a client deciding a share with and without stalls, a
# decider that traps, a full queue, a reload storm, SIGSTOP, SIGTERM, SIGKILL
# and every other signal mid-storm, a cgroup memory limit, mount churn, its own
# files watched while journald rotates, the hostile corpora; each prints its counts.
stress: deps-test
	$(SWIFT) build --build-tests
	FANFILTER_STRESS=full unshare --mount --propagation private $(SWIFT) test --skip-build --disable-swift-testing \
		--filter FanFilterCLITests.StressTests 2>&1 | tee .build/stress.log | grep -E '^stress:|error:|Executed [0-9]+ tests'

kernels: deps-test
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory package
	@for k in host $(KERNELS); do \
		if [ $$k = host ]; then bash tools/kernel-tests.sh all $(BUILD_DIR) > .build/kernel-$$k.log 2>&1; \
		else bash tools/kernel-vm.sh --kernel $$k --timeout 10800 -- env FANFILTER_TEST_TIME_SCALE=4 FANFILTER_TEST_AUDITD=1 bash tools/kernel-tests.sh all $(BUILD_DIR) > .build/kernel-$$k.log 2>&1; fi; \
		echo "$$k: status $$?"; grep -E '^kernel-tests:|Test Case .*(failed|skipped)|Executed [0-9]+ tests' .build/kernel-$$k.log | tail -40; \
	done

# The side-by-side benchmark (never part of make test): no agent, the minimal
# C listener, fanfilter, fapolicyd when installed. ROUNDS, HOT, COLD, EXEC tune it.
bench: deps bench-policy
	$(SWIFT) build $(RELEASE) --product fanfilter
	$(SWIFT) build $(RELEASE) --product fanfilterd
	$(SWIFT) build $(RELEASE) --product fanfilter-scanner
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/run.sh
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/allowlist.sh

# The allow-listing part of make bench alone: exec-heavy, fapolicyd's default
# rules with integrity = sha256, beside fapolicyd (ROUNDS, EXEC, EXEC_COLD, BUSY tune it).
bench-allowlist: deps
	$(SWIFT) build $(RELEASE) --product fanfilter
	$(SWIFT) build $(RELEASE) --product fanfilterd
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/allowlist.sh

# fanfilter's resident memory over EVENTS decided opens (default 5,000,000),
# printed every STEP (default 1,000,000); fails if it grew by more than GROWTH KiB.
soak: deps
	$(SWIFT) build $(RELEASE) --product fanfilter
	$(SWIFT) build $(RELEASE) --product fanfilterd
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/soak.sh

# System calls, context switches, malloc calls and CPU time per decided event,
# fanfilter next to the minimal C listener (needs strace; perf for mallocs).
hotpath: deps
	$(SWIFT) build $(RELEASE) --product fanfilter
	$(SWIFT) build $(RELEASE) --product fanfilterd
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/hotpath.sh

# ns per decision of the policy evaluator alone, for 10, 1,000 and 10,000 rules.
bench-policy: deps
	$(SWIFT) build $(RELEASE) --product fanfilter-policy-bench
	$(RELEASE_BIN)/fanfilter-policy-bench

# libFuzzer over the policy parser, the port's frame decoders, then ELF
# headers and #! lines, for FUZZ_SECONDS each (default 60). fuzz/corpus,
# fuzz/port-corpus and fuzz/elf-corpus are the seeds; what a run finds stays
# in .build/fuzz-corpus, .build/port-fuzz-corpus and .build/elf-fuzz-corpus.
FUZZ_SECONDS ?= 60
fuzz:
	mkdir -p .build/fuzz-corpus .build/port-fuzz-corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name Policy -O \
		Sources/Policy/*.swift fuzz/PolicyFuzzer.swift -o .build/policy-fuzzer
	.build/policy-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
		-artifact_prefix=.build/ .build/fuzz-corpus fuzz/corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name PortProtocol -O \
		Sources/PortProtocol/*.swift fuzz/PortFrameFuzzer.swift -o .build/port-fuzzer
	.build/port-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=5 \
		-artifact_prefix=.build/port- .build/port-fuzz-corpus fuzz/port-corpus
	mkdir -p .build/elf-fuzz-corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name FileType -O \
		Sources/FileType/ElfFacts.swift Sources/FileType/Shebang.swift fuzz/FileTypeFuzzer.swift -o .build/filetype-fuzzer
	.build/filetype-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=5 \
		-artifact_prefix=.build/filetype- .build/elf-fuzz-corpus fuzz/elf-corpus

# Install: the binary, the unit, the journal catalog, and the default policy
# (only when /etc/fanfilter/policy does not exist: an admin's policy is never
# overwritten). BINARY=PATH installs another build (the tests install the debug
# one); its fanfilterd, the daemon the unit starts, is the one beside it.
SBINDIR    ?= $(PREFIX)/sbin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
APTCONFDIR ?= /etc/apt/apt.conf.d
DOCDIR     ?= $(PREFIX)/share/doc/fanfilter
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
BINARY     ?=

install: deps
	@if [ -z "$(BINARY)" ]; then $(SWIFT) build $(RELEASE) --product fanfilter && $(SWIFT) build $(RELEASE) --product fanfilterd; fi
	@$(MAKE) --no-print-directory install-files BINARY="$(if $(BINARY),$(BINARY),$(RELEASE_BIN)/fanfilter)"
	install -d -m 0755 $(DESTDIR)/etc/fanfilter $(DESTDIR)/etc/fanfilter/policy.d
	@if [ -e $(DESTDIR)/etc/fanfilter/policy ]; then \
		echo "keeping the existing $(DESTDIR)/etc/fanfilter/policy"; \
	else \
		install -m 0644 systemd/fanfilter.policy $(DESTDIR)/etc/fanfilter/policy; \
	fi
	@echo "installed; then: systemctl daemon-reload; journalctl --update-catalog; systemctl enable --now fanfilter"

# What install and the Debian package put in place outside /etc (BINARY is
# the fanfilter to install, with the fanfilterd beside it). The shipped default policy also goes to
# $(PREFIX)/share/fanfilter, where the package's postinst takes it from.
install-files:
	install -D -m 0755 $(BINARY) $(DESTDIR)$(SBINDIR)/fanfilter
	install -D -m 0755 $(dir $(BINARY))fanfilterd $(DESTDIR)$(SBINDIR)/fanfilterd
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/fanfilter.service.in > $(DESTDIR)$(UNITDIR)/fanfilter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fanfilter.service
	install -D -m 0644 systemd/fanfilter.catalog $(DESTDIR)$(CATALOGDIR)/fanfilter.catalog
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -D -m 0644 systemd/fanfilter.policy $(DESTDIR)$(PREFIX)/share/fanfilter/fanfilter.policy
	install -D -m 0644 systemd/50-fanfilter-memfd-noexec.conf $(DESTDIR)$(PREFIX)/share/fanfilter/sysctl/50-fanfilter-memfd-noexec.conf
	install -d $(DESTDIR)$(APTCONFDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' apt/60fanfilter.in > $(DESTDIR)$(APTCONFDIR)/60fanfilter
	chmod 0644 $(DESTDIR)$(APTCONFDIR)/60fanfilter
	install -D -m 0644 man/fanfilter.8 $(DESTDIR)$(MANDIR)/man8/fanfilter.8
	install -D -m 0644 man/fanfilterd.8 $(DESTDIR)$(MANDIR)/man8/fanfilterd.8
	install -D -m 0644 man/fanfilter.policy.5 $(DESTDIR)$(MANDIR)/man5/fanfilter.policy.5
	install -D -m 0644 man/fanfilter-port.7 $(DESTDIR)$(MANDIR)/man7/fanfilter-port.7
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(DESTDIR)$(SBINDIR)/fanfilter --generate-completion-script bash | sed '1{/^#!/d}' > $(DESTDIR)$(BASHCOMPDIR)/fanfilter
	$(DESTDIR)$(SBINDIR)/fanfilter --generate-completion-script zsh > $(DESTDIR)$(ZSHCOMPDIR)/_fanfilter
	$(DESTDIR)$(SBINDIR)/fanfilter --generate-completion-script fish > $(DESTDIR)$(FISHCOMPDIR)/fanfilter.fish

# A Debian package (debian/, debhelper), in .build/deb: the release binary,
# the unit (enabled on install, never started: the postinst says to review
# the policy first), catalog, man pages, completions, README, and the default
# policy (put in /etc/fanfilter/policy only where none is; a purge removes it
# only while it is still the default). Then lintian, where installed.
deb: deps-deb package
	@if command -v lintian >/dev/null; then lintian --fail-on warning .build/deb/fanfilter_*.deb && echo "lintian: clean (overrides: debian/fanfilter.lintian-overrides)"; fi
	@ls .build/deb/*.deb

deps-deb: swift
	@bash tools/deps.sh deb

# The package alone, without lintian (make test builds it for its install test).
package:
	rm -rf .build/deb && mkdir -p .build/deb
	@# Without its stamp, dh builds again (an incremental release build): with it, dh would
	@# package whatever release binaries an earlier build left.
	rm -f debian/debhelper-build-stamp
	SWIFT=$(SWIFT) debian/rules binary > .build/deb/build.log 2>&1 || { tail -30 .build/deb/build.log; exit 1; }
	@# The package must hold this build's daemon (stripped, it keeps the build ID).
	@t=$$(mktemp) && dpkg-deb --fsys-tarfile .build/deb/fanfilter_*.deb | tar -xO ./usr/sbin/fanfilterd > $$t; \
		packaged=$$(readelf -n $$t | sed -n 's/.*Build ID: //p'); rm -f $$t; \
		built=$$(readelf -n $(RELEASE_BIN)/fanfilterd | sed -n 's/.*Build ID: //p'); \
		[ -n "$$built" ] && [ "$$packaged" = "$$built" ] || { echo "make package: the package's fanfilterd (build ID $$packaged) is not this build's ($$built)"; exit 1; }

# Removes what install added. The policy goes only when it is still the shipped default.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fanfilter $(DESTDIR)$(SBINDIR)/fanfilterd $(DESTDIR)$(UNITDIR)/fanfilter.service \
		$(DESTDIR)$(CATALOGDIR)/fanfilter.catalog $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/docs/*.md \
		$(DESTDIR)$(PREFIX)/share/fanfilter/fanfilter.policy $(DESTDIR)$(PREFIX)/share/fanfilter/sysctl/50-fanfilter-memfd-noexec.conf \
		$(DESTDIR)$(MANDIR)/man8/fanfilter.8 $(DESTDIR)$(MANDIR)/man8/fanfilterd.8 $(DESTDIR)$(MANDIR)/man5/fanfilter.policy.5 $(DESTDIR)$(MANDIR)/man7/fanfilter-port.7 \
		$(DESTDIR)$(BASHCOMPDIR)/fanfilter $(DESTDIR)$(ZSHCOMPDIR)/_fanfilter $(DESTDIR)$(FISHCOMPDIR)/fanfilter.fish
	-rmdir $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PREFIX)/share/fanfilter/sysctl $(DESTDIR)$(PREFIX)/share/fanfilter 2>/dev/null
	@if cmp -s systemd/fanfilter.policy $(DESTDIR)/etc/fanfilter/policy; then \
		rm -f $(DESTDIR)/etc/fanfilter/policy; rmdir $(DESTDIR)/etc/fanfilter/policy.d $(DESTDIR)/etc/fanfilter 2>/dev/null || true; \
	elif [ -e $(DESTDIR)/etc/fanfilter/policy ]; then \
		echo "keeping $(DESTDIR)/etc/fanfilter/policy: it differs from the shipped default"; \
	fi

check: build
	$(BUILD_DIR)/fanfilter check $(if $(POLICY),$(POLICY),systemd/fanfilter.policy)

clean:
	rm -rf .build
