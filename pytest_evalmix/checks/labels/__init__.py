"""Checks of who labelled the golds, and how: gold-provenance, provisional, review."""
