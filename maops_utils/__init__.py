"""maops: analysis toolkit for marketing-automation operations."""

__version__ = "0.1.0"
