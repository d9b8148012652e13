# verbatim — the two commands a new user needs:
#   make run    install what is missing, build, start `verbatim serve --dev` on :8080
#   make test   install what is missing, build, run every test (unit, integration, e2e)

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR   ?= ./data
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test test-unit test-e2e bench fuzz clean

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/verbatim serve --dev --data-dir $(DATA_DIR) --http-listen 127.0.0.1:8080 --sip-listen 127.0.0.1:5060

test: build
	$(MAKE) --no-print-directory test-unit test-e2e

test-unit:
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-e2e:
	VERBATIM_BIN=$(abspath $(BUILD_DIR))/verbatim node --test --test-concurrency=2 tests/e2e/

bench:
	VERBATIM_DEPS_EXTRA=1 scripts/deps.sh
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
