"""Files bpviz ships besides code: the icon, the desktop entry, the AppStream metainfo and
the equations reference. Installed as the package `bpviz.resources`; read them with
`importlib.resources.files("bpviz.resources")`, never by a path into a checkout."""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

APP_ID = "org.bpviz.bpviz"  # the desktop entry's and the metainfo's name, and the icon's
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def resource(name: str) -> Traversable:
    """A file of this folder, e.g. resource("equations.md") or resource("icons/bpviz-32.png")."""
    return files(__name__).joinpath(name)


def read_text(name: str) -> str:
    return resource(name).read_text(encoding="utf-8")


def icon_svg() -> Traversable:
    return resource("icons/bpviz.svg")


def icon_png(size: int) -> Traversable:
    return resource(f"icons/bpviz-{size}.png")
