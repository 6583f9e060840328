"""Everything that imports Qt lives under this package."""
