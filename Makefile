# fanfilter: build, run, test, install.
#   sudo make run     build and run the agent in the foreground on the shipped default policy
#   sudo make test    build and run every test (kernel tests need root)
SWIFT      ?= swift
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
RELEASE     = -c release --static-swift-stdlib $(RELR)
RELEASE_BIN = $$($(SWIFT) build -c release --show-bin-path)

.PHONY: all deps build release run test check bench bench-policy soak hotpath fuzz install uninstall clean

all: build

# The system packages the build and the tests need, with the command that installs them.
deps:
	@missing=""; \
	pkg-config --exists libsystemd 2>/dev/null || missing="$$missing libsystemd-dev"; \
	/sbin/ldconfig -p 2>/dev/null | grep -q 'libcrypto\.so' || missing="$$missing libssl-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	if [ -n "$$missing" ]; then echo "missing system packages:$$missing"; \
		echo "install them with: sudo apt-get install -y$$missing"; exit 1; fi

build: deps
	$(SWIFT) build -c $(CONFIG)

release:
	$(SWIFT) build $(RELEASE)

# The agent in the foreground; Ctrl-C stops it cleanly. POLICY=FILE runs another policy.
run: build
	$(BUILD_DIR)/fanfilter run $(if $(POLICY),--policy $(POLICY))

# The tests run in a private mount namespace: the tmpfs each kernel test mounts
# is never visible to the rest of the machine.
test: deps
	$(SWIFT) build --build-tests
	unshare --mount --propagation private $(SWIFT) test --skip-build --disable-swift-testing

# The side-by-side benchmark (never part of make test): no agent, the minimal
# C listener, fanfilter, fapolicyd when installed. ROUNDS, HOT, COLD, EXEC tune it.
bench: bench-policy
	$(SWIFT) build $(RELEASE) --product fanfilter
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/run.sh

# fanfilter's resident memory over EVENTS decided opens (default 5,000,000),
# printed every STEP (default 1,000,000); fails if it grew by more than GROWTH KiB.
soak:
	$(SWIFT) build $(RELEASE) --product fanfilter
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/soak.sh

# System calls, context switches, malloc calls and CPU time per decided event,
# fanfilter next to the minimal C listener (needs strace; perf for mallocs).
hotpath:
	$(SWIFT) build $(RELEASE) --product fanfilter
	FANFILTER=$(RELEASE_BIN)/fanfilter unshare --mount --propagation private bash bench/hotpath.sh

# ns per decision of the policy evaluator alone, for 10, 1,000 and 10,000 rules.
bench-policy:
	$(SWIFT) build $(RELEASE) --product fanfilter-policy-bench
	$(RELEASE_BIN)/fanfilter-policy-bench

# libFuzzer over the policy parser for FUZZ_SECONDS (default 60). The corpus
# in fuzz/corpus is the seed; what the run finds stays in .build/fuzz-corpus.
FUZZ_SECONDS ?= 60
fuzz:
	mkdir -p .build/fuzz-corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name Policy -O \
		Sources/Policy/*.swift fuzz/PolicyFuzzer.swift -o .build/policy-fuzzer
	.build/policy-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
		-artifact_prefix=.build/ .build/fuzz-corpus fuzz/corpus

# Install: the binary, the unit, the journal catalog, and the default policy
# (only when /etc/fanfilter/policy does not exist: an admin's policy is never
# overwritten). BINARY=PATH installs another build (the tests install the debug one).
SBINDIR    ?= $(PREFIX)/sbin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
DOCDIR     ?= $(PREFIX)/share/doc/fanfilter
BINARY     ?=

install:
	@if [ -z "$(BINARY)" ]; then $(SWIFT) build $(RELEASE) --product fanfilter; fi
	install -D -m 0755 $(if $(BINARY),$(BINARY),$(RELEASE_BIN)/fanfilter) $(DESTDIR)$(SBINDIR)/fanfilter
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/fanfilter.service.in > $(DESTDIR)$(UNITDIR)/fanfilter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fanfilter.service
	install -D -m 0644 systemd/fanfilter.catalog $(DESTDIR)$(CATALOGDIR)/fanfilter.catalog
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d -m 0755 $(DESTDIR)/etc/fanfilter $(DESTDIR)/etc/fanfilter/policy.d
	@if [ -e $(DESTDIR)/etc/fanfilter/policy ]; then \
		echo "keeping the existing $(DESTDIR)/etc/fanfilter/policy"; \
	else \
		install -m 0644 systemd/fanfilter.policy $(DESTDIR)/etc/fanfilter/policy; \
	fi
	@echo "installed; then: systemctl daemon-reload; journalctl --update-catalog; systemctl enable --now fanfilter"

# Removes what install added. The policy goes only when it is still the shipped default.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fanfilter $(DESTDIR)$(UNITDIR)/fanfilter.service \
		$(DESTDIR)$(CATALOGDIR)/fanfilter.catalog $(DESTDIR)$(DOCDIR)/README.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if cmp -s systemd/fanfilter.policy $(DESTDIR)/etc/fanfilter/policy; then \
		rm -f $(DESTDIR)/etc/fanfilter/policy; rmdir $(DESTDIR)/etc/fanfilter/policy.d $(DESTDIR)/etc/fanfilter 2>/dev/null || true; \
	elif [ -e $(DESTDIR)/etc/fanfilter/policy ]; then \
		echo "keeping $(DESTDIR)/etc/fanfilter/policy: it differs from the shipped default"; \
	fi

check: build
	$(BUILD_DIR)/fanfilter check $(if $(POLICY),$(POLICY),systemd/fanfilter.policy)

clean:
	rm -rf .build
