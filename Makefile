# fanfilter: build, run, test, install.
#   sudo make run     build and run the agent in the foreground on the shipped default policy
#   sudo make test    build and run every test (kernel tests need root)
SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
POLICY     ?=
CONFIG     ?= debug
BUILD_DIR  := $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path 2>/dev/null)

.PHONY: all build release run test check clean

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

check: build
	$(BUILD_DIR)/fanfilter check $(if $(POLICY),$(POLICY),systemd/fanfilter.policy)

clean:
	rm -rf .build
