"""The one exception the data layer raises for anything wrong with files, mirrors or dirs."""
from __future__ import annotations


class DataError(Exception):
    """A problem with a data file, a download or a data directory. `str(e)` is one line
    that names the file or directory, ready for `bpviz: error: <message>`."""

    def __init__(self, message: str):
        # a message with a newline would break the one-line contract of the CLI and the GUI
        super().__init__(" ".join(str(message).split()))
