# BrookMQ: `make run` starts the broker, `make test` runs lint and the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?=

.PHONY: run test test-slow test-crash soak lint install install-test system-deps bench bench-quick bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Real third-party clients for the interop tests (Debian's mosquitto-clients), the broker the
# MQTT bridge tests bridge to (Debian's mosquitto), the Redis the Redis connector tests write
# to (Debian's redis-server) and the browser Playwright drives (Debian's chromium: Playwright's
# own browser downloads are not used). The tests start and stop those servers themselves.
system-deps:
	@command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null && { command -v mosquitto || [ -x /usr/sbin/mosquitto ]; } >/dev/null && command -v redis-server >/dev/null && [ -x /usr/bin/chromium ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mosquitto-clients mosquitto redis-server chromium; }

run: install
	$(BIN)/brookmq start $(if $(CONFIG),--config $(CONFIG))

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install-test system-deps lint
	$(BIN)/pytest -q

test-slow: install-test system-deps
	$(BIN)/pytest -q -m slow

# The broker killed -9 at 20 random moments under QoS 1/2 and retained traffic (about 1 min).
test-crash: install-test
	$(BIN)/pytest -q -m slow tests/durability/test_crash.py

# Every attack of issue #14 at once for 60 s (SOAK_SECONDS) while a probe measures round trips.
soak: install-test
	$(BIN)/pytest -q -s -m slow tests/hardening/test_soak.py

# Benchmarks: BrookMQ, Mosquitto (Debian) and amqtt (own venv under benchmarks/work) side by side.
bench-deps:
	@command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mosquitto; }
	@command -v taskset >/dev/null || echo "taskset not found: brokers and loader will not be pinned"

bench: install-test bench-deps
	$(BIN)/python -m benchmarks.run

bench-quick: install-test bench-deps
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
