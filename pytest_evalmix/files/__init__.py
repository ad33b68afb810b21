"""The one rule for touching the disk: paths and symlinks, atomic writes, safe YAML, the per-
process cache.
"""
