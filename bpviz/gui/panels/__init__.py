"""The Panel contract (base.py). The panels themselves are in bpviz/gui/views and the
equations panel in bpviz/gui/equations_panel.py; bpviz.gui.window.panel_classes() lists
them in dock order."""
