# The two commands a newcomer types: `make run` and `make test`.
# Everything they need is installed into .venv on first use.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all test test-fast bench bench32 run demo clean distclean venv firmware flash deploy console check

all: test

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@# Debian's python3 ships venv without ensurepip unless python3-venv is installed.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); apt-get update -qq && \
	  apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	@# The project itself, editable: the one import setup for host code (pyproject.toml).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m tools.fetch_umqtt
	touch $(STAMP)

venv: $(STAMP)

# Most of the suite waits (brokers, hubs, real-second windows), so it runs on
# more workers than cores; the 15 slowest tests are listed at the end.
JOBS ?= 4
test: $(STAMP)
	$(PY) -m pytest host_tests -p no:cacheprovider -n $(JOBS) --dist worksteal --durations=15

# The edit-run loop: pure firmware tests on both interpreters and the monitor's
# fake-clock engine tests (on SQLite), no broker, server or browser.
test-fast: $(STAMP)
	$(PY) -m pytest host_tests -p no:cacheprovider -n 2 --dist worksteal -m fast \
	  -k "not postgresql" --durations=5

bench: $(STAMP)
	$(PY) -m tools.bench

# The hub's heap on a 32-bit MicroPython v1.28.0 (unix port), plain and with the hub
# frozen in: MICROPY_SRC=/path/to/micropython (python -m tools.mp32 says how to get one).
bench32: $(STAMP)
	$(PY) -m tools.mp32 bench

# SPEED=N runs the hub's clock N times faster (a 60 s exit delay takes 60/N s).
run: $(STAMP)
	$(PY) -m tools.run $(if $(SPEED),--speed $(SPEED)) $(if $(PORT),--port $(PORT))

demo: $(STAMP)
	$(PY) -m tools.story --pretty --speed $(or $(SPEED),20) tools/demo/stories/*.jsonl

# The board (see README, "Flashing", and docs/board.md). The frozen hub image for a
# board without PSRAM, with ESP-IDF: MICROPY_SRC=/path/to/micropython BOARD=esp32_devkitc
firmware: $(STAMP)
	$(PY) -m tools.firmware build --board "$(BOARD)"

# PORT=/dev/ttyUSB0 BOARD=esp32_devkitc: the image `make firmware` built, or FIRMWARE=a .bin
flash: $(STAMP)
	$(PY) -m tools.firmware flash --port "$(PORT)" --board "$(BOARD)" $(if $(FIRMWARE),--firmware "$(FIRMWARE)")

deploy: $(STAMP)
	$(PY) -m tools.deploy deploy --port "$(PORT)" --board "$(BOARD)" --config "$(or $(CONFIG),config.json)"

# CONFIG checked as deploy checks it (and against BOARD's pins when given), without a board.
check: $(STAMP)
	$(PY) -m tools.deploy check --config "$(or $(CONFIG),config.json)" $(if $(BOARD),--board "$(BOARD)")

console: $(STAMP)
	$(PY) -m tools.deploy console --port "$(PORT)"

clean:
	rm -rf build .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
