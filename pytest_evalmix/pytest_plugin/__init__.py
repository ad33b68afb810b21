"""The pytest layer: the only code that imports pytest, apart from the `plugin` shim.

Its modules use pytest's public API only.
"""
