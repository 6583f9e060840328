"""Data sets: the embedded toy set, IDX files, download and cache. Never imports Qt."""
