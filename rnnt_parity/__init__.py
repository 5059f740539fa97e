"""rnnt-parity: does this implementation compute the same function as that one?"""

__version__ = "0.1.0"
