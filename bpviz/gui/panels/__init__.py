"""Every panel of the window, one file each, keeping the contract in base.py: draw the
latest Snapshot and the run's history, do no math, never call the worker.
bpviz.gui.window.panel_classes() lists the dockable ones in dock order."""
