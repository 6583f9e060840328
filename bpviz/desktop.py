"""`bpviz install-desktop [--uninstall]`: put bpviz in the user's applications menu (the
desktop entry, its icons and the AppStream metainfo under $XDG_DATA_HOME), or take it out."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bpviz.resources import APP_ID, ICON_SIZES, icon_png, icon_svg, read_text, resource


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset, empty or relative (as the XDG spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def _targets(home: Path) -> dict[str, Path]:
    """Each installed file, by the resource it comes from."""
    out = {f"{APP_ID}.desktop": home / "applications" / f"{APP_ID}.desktop",
           f"{APP_ID}.metainfo.xml": home / "metainfo" / f"{APP_ID}.metainfo.xml",
           "icons/bpviz.svg": home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"}
    for size in ICON_SIZES:
        out[f"icons/bpviz-{size}.png"] = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    return out


def bpviz_command() -> str:
    """The absolute path of the `bpviz` script of this installation (a pipx or venv bin
    folder is rarely on the menu's PATH), else plain `bpviz`."""
    beside = Path(sys.executable).parent / "bpviz"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bpviz")
    return os.path.abspath(found) if found else "bpviz"


def _exec_quote(arg: str) -> str:
    """One Exec= argument, quoted as the desktop entry spec requires when needed."""
    arg = arg.replace("%", "%%")  # a literal % would start a field code
    if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'.replace("\\", "\\\\")  # the key's value is itself unescaped once


def desktop_entry(command: str) -> str:
    """The shipped desktop entry with Exec pointing at `command`."""
    lines = []
    for line in read_text(f"{APP_ID}.desktop").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={_exec_quote(command)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file, so a failure never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _refresh_menu(home: Path) -> None:
    """Tell the desktop about the change where the tool exists; harmless when it does not."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, "-q", str(home / "applications")], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def install(home: Path | None = None, command: str | None = None) -> list[Path]:
    home = home or data_home()
    targets = _targets(home)
    written = []
    for name, path in targets.items():
        if name.endswith(".desktop"):
            data = desktop_entry(command or bpviz_command()).encode()
        elif name == "icons/bpviz.svg":
            data = icon_svg().read_bytes()
        elif name.startswith("icons/"):
            data = icon_png(int(name[len("icons/bpviz-"):-len(".png")])).read_bytes()
        else:
            data = resource(name).read_bytes()
        _write(path, data)
        written.append(path)
    _refresh_menu(home)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    home = home or data_home()
    removed = []
    for path in _targets(home).values():
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_menu(home)
    return removed


def add_install_desktop_arguments(p) -> None:
    p.add_argument("--uninstall", action="store_true", help="remove what install-desktop installed")


def run_install_desktop(args) -> int:
    home = data_home()
    if args.uninstall:
        removed = uninstall(home)
        print(f"removed {len(removed)} files from {home}" if removed else f"bpviz was not installed in {home}")
        return 0
    written = install(home)
    print(f"installed the bpviz menu entry and {len(written) - 2} icons in {home} "
          f"(Exec={bpviz_command()})")
    return 0
