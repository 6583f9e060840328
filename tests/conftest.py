"""Set-up shared by every test, run before any test module imports Qt.

- Qt draws offscreen unless the caller chose a platform (so a desktop session running
  pytest opens no windows, and CI needs no display).
- The window's QSettings land in a throw-away directory, never in the user's
  ~/.config/bpviz: Qt on Linux reads XDG_CONFIG_HOME once, at first use, so it is set here.
  Subprocesses (the `bpviz` command in CLI tests) inherit the same isolation.
- The cache (typeset equations, downloaded data) lands in a throw-away directory too, never
  in the user's ~/.cache/bpviz.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_CONFIG_HOME = tempfile.mkdtemp(prefix="bpviz-test-config-")
os.environ["XDG_CONFIG_HOME"] = _CONFIG_HOME
atexit.register(shutil.rmtree, _CONFIG_HOME, ignore_errors=True)
_CACHE_HOME = tempfile.mkdtemp(prefix="bpviz-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)
