# `make run` and `make test` are the two commands README.md promises on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Debian libraries Qt needs for offscreen rendering and a real X11 window (ARCHITECTURE.md)
QT_DEBS := libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 \
  libxkbcommon0 fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
  libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0
TEST_DEBS := xvfb xauth xdotool x11-apps dataset-fashion-mnist

.PHONY: run test deps system-deps clean
run: deps
	$(BIN)/bpviz

test: deps system-deps-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PY) >/dev/null || { echo "bpviz needs $(PY) on PATH" >&2; exit 1; }
	$(MAKE) system-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# Installs only what is missing, and only where apt-get and root are available.
system-deps:
	@sh scripts/apt-ensure $(QT_DEBS)

system-deps-test:
	@sh scripts/apt-ensure $(TEST_DEBS)

clean:
	rm -rf $(VENV) build *.egg-info
