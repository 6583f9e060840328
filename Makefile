# `make run` and `make test` are the two commands README.md promises on a fresh machine.
# PY: the first of these that runs and is at least 3.11 (a pyenv shim can exist and fail),
# unless given: `make run PY=python3.12`.
PY_CANDIDATES := python3.13 python3.12 python3.11 python3
ifeq ($(origin PY), undefined)
PY := $(shell for p in $(PY_CANDIDATES); do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
endif
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Debian libraries Qt needs for offscreen rendering and a real X11 window (ARCHITECTURE.md)
QT_DEBS := libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 \
  libxkbcommon0 fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
  libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0
# desktop-file-utils and appstream validate the desktop entry and metainfo in resources/
TEST_DEBS := xvfb xauth xdotool x11-apps dataset-fashion-mnist desktop-file-utils appstream

.PHONY: run test deps python system-deps system-deps-test clean
run: deps
	$(BIN)/bpviz

test: deps system-deps-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# Says which Python it chose; rebuilds the environment when it was made by another version.
deps: python
	@want=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	echo "bpviz: using $(PY) (Python $$want) for $(VENV)"; \
	if [ -n "$$have" ] && [ "$$have" != "$$want" ]; then \
	  echo "bpviz: $(VENV) was made with Python $$have; making it again"; rm -rf $(VENV); fi
	@$(MAKE) --no-print-directory -q $(VENV)/.installed PY=$(PY) VENV=$(VENV) || \
	  $(MAKE) --no-print-directory $(VENV)/.installed PY=$(PY) VENV=$(VENV)

python:
	@if [ -z "$(PY)" ]; then \
	  echo "bpviz needs Python 3.11 or newer: none of $(PY_CANDIDATES) is (give one with PY=...)" >&2; exit 1; fi
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "bpviz needs Python 3.11 or newer; PY=$(PY) is not" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml
	$(MAKE) --no-print-directory system-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	# bytecode now, as pip does for a regular install: an editable one (or PYTHONDONTWRITEBYTECODE)
	# would compile bpviz's 50 modules at every start, 0.1 s of it
	$(BIN)/python -m compileall -q bpviz >/dev/null
	touch $@

# Installs only what is missing, and only where apt-get and root are available.
system-deps:
	@sh scripts/apt-ensure $(QT_DEBS)

system-deps-test:
	@sh scripts/apt-ensure $(TEST_DEBS)

clean:
	rm -rf .venv .venv-* build dist *.egg-info
