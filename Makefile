# verbatim — the two commands a new user needs:
#   make run    install what is missing, build the server (only), start `verbatim serve --dev` on :8080
#   make test   install what is missing, build the server, run the e2e and browser suites on it,
#               then build everything under ASan+UBSan and run the unit (and integration) tests
#               and the e2e suite again there, then every fuzz target for FUZZ_SECONDS
#               (one clang build serves both: docs/decisions.md "Sanitizer and fuzz builds")

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR   ?= ./data
JOBS       ?= $(shell nproc)

.PHONY: all deps build binaries run test test-unit test-e2e test-browser test-asan test-fuzz bench clean terraform-provider

all: build

deps:
	@scripts/deps.sh

# RelWithDebInfo with line tables only (-g1): file:line in every backtrace, and about 40% less
# compile time than -g on the Beast-heavy files (docs/decisions.md, "Debug information").
# BUILD_TYPE=Debug for full debug information.
$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds only the server it runs; `make build` builds everything, tests included.
run: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target verbatim
	$(BUILD_DIR)/verbatim serve --dev --data-dir $(DATA_DIR) --http-listen 127.0.0.1:8080 --sip-listen 127.0.0.1:5060 --grpc-listen 127.0.0.1:50051

# Fastest feedback first; each stage stops `make` on its first failure.
# The unit tests run once, in the sanitizer build (test-asan); the plain build
# only makes the binaries the e2e and browser suites drive, the ones `make run`
# ships (docs/decisions.md, "Unit tests run once, in the sanitizer build").
# `make test-unit` still runs them on the plain build.
test: binaries
	$(MAKE) --no-print-directory test-e2e test-browser test-asan test-fuzz

# The server and the Terraform provider, nothing else.
binaries: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target verbatim terraform-provider-verbatim

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-e2e:
	VERBATIM_BIN=$(abspath $(BUILD_DIR))/verbatim node --test --test-concurrency=2 tests/e2e/

# The admin console in headless Chromium (scripts/deps.sh installs it); one file
# at a time, as each drives a browser. Screenshots land in build/browser-screenshots
# (SCREENSHOT_DIR overrides).
test-browser:
	VERBATIM_BIN=$(abspath $(BUILD_DIR))/verbatim node --test --test-concurrency=1 tests/browser/

# Unit + e2e tests, built by clang with ASan+UBSan in build-asan (scripts/sanitize.sh);
# the same build holds the fuzz targets.
test-asan: deps
	scripts/sanitize.sh

# Every fuzz/*_fuzz.cc for FUZZ_SECONDS (default 20) each, from build-asan (built by sanitize.sh if needed).
test-fuzz: deps
	SANITIZE_STAGES=none scripts/sanitize.sh
	FUZZ_BUILD_DIR=build-asan scripts/fuzz.sh

# terraform-provider-verbatim in an offline mirror + the CLI configuration for it (docs/terraform/index.md).
terraform-provider: build
	@scripts/terraform-mirror.sh $(BUILD_DIR)

# Release build + loopback benchmark (~2 min after the build); see docs/performance.md.
bench: deps
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
