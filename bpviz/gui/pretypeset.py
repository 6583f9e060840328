"""The equations bpviz ships pre-typeset (resources/typeset.zip, written by
`scripts/pretypeset`): each preset's step in both notations, at the sizes the equations
panel uses at zoom 1, and every equation of the reference."""
from __future__ import annotations

from pathlib import Path


def forms_to_ship() -> list[tuple[str, float]]:
    """(LaTeX, size) of every equation shipped, in a stable order without repeats."""
    from bpviz.engine.presets import PRESETS, YOUR_DATA
    from bpviz.resources import read_text

    from .panels.equations import CURRENT_MATH_SIZE, ROW_MATH_SIZE, step_forms
    from .reference import MATH_SIZE, REFERENCE, split_blocks
    sizes = {"row": ROW_MATH_SIZE, "current": CURRENT_MATH_SIZE}
    forms: dict[tuple[str, float], None] = {}
    for preset in (*PRESETS.values(), YOUR_DATA):
        for column in (False, True):
            for kind, tex in step_forms(preset.config, column):
                forms[(tex, sizes[kind])] = None
    for kind, tex in split_blocks(read_text(REFERENCE)):
        if kind == "math":
            forms[(tex, MATH_SIZE)] = None
    return list(forms)


def main(path: Path) -> int:
    from .widgets.mathview import write_shipped
    forms = forms_to_ship()
    n = write_shipped(forms, path)
    print(f"pretypeset: {n} equations typeset into {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
