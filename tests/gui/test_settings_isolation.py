"""The test run never reads or writes the user's bpviz settings (tests/conftest.py)."""
import os
from pathlib import Path

from PySide6.QtCore import QSettings


def test_default_settings_live_in_the_throw_away_config_home():
    home = Path(os.environ["XDG_CONFIG_HOME"]).resolve()
    assert home != (Path.home() / ".config").resolve()
    # the same organisation/application names the window uses when given no settings
    path = Path(QSettings("bpviz", "bpviz").fileName()).resolve()
    assert home in path.parents, path

