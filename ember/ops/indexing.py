"""TODO: filled by its owner."""

__all__ = []
