"""The panels, in the order their docks are created. Each is a `Panel` subclass."""
from __future__ import annotations

PANEL_CLASSES: list = []  # filled as panels are written: [DiagramPanel, LossPanel, ...]
