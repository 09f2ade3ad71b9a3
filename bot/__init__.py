"""Wegweiser: a multilingual messenger bot for a municipal integration programme."""
