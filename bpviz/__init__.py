"""bpviz: backpropagation made visible, one equation at a time."""
__version__ = "0.1.0"
