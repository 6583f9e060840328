"""The training engine: pure NumPy and the standard library, never Qt."""
