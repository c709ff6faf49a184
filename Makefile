# fanfilter: build, run, test, install.
#   sudo make run     build and run the agent in the foreground on the shipped default policy
#   sudo make test    build and run every test (kernel tests need root)
SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
POLICY     ?=
CONFIG     ?= debug
BUILD_DIR  := $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path 2>/dev/null)

.PHONY: all build release run test check bench-policy fuzz clean

all: build

build:
	$(SWIFT) build -c $(CONFIG)

release:
	$(SWIFT) build -c release

# The agent in the foreground; Ctrl-C stops it cleanly. POLICY=FILE runs another policy.
run: build
	$(BUILD_DIR)/fanfilter run $(if $(POLICY),--policy $(POLICY))

# The tests run in a private mount namespace: the tmpfs each kernel test mounts
# is never visible to the rest of the machine.
test:
	$(SWIFT) build --build-tests
	unshare --mount --propagation private $(SWIFT) test --skip-build --disable-swift-testing

# ns per decision of the policy evaluator alone, for 10, 1,000 and 10,000 rules.
bench-policy:
	$(SWIFT) build -c release --product fanfilter-policy-bench
	$$($(SWIFT) build -c release --show-bin-path)/fanfilter-policy-bench

# libFuzzer over the policy parser for FUZZ_SECONDS (default 60). The corpus
# in fuzz/corpus is the seed; what the run finds stays in .build/fuzz-corpus.
FUZZ_SECONDS ?= 60
fuzz:
	mkdir -p .build/fuzz-corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name Policy -O \
		Sources/Policy/*.swift fuzz/PolicyFuzzer.swift -o .build/policy-fuzzer
	.build/policy-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
		-artifact_prefix=.build/ .build/fuzz-corpus fuzz/corpus

check: build
	$(BUILD_DIR)/fanfilter check $(if $(POLICY),$(POLICY),systemd/fanfilter.policy)

clean:
	rm -rf .build
