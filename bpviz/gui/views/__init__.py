"""Drawing panels (pyqtgraph): they draw Snapshots and do no training math."""
