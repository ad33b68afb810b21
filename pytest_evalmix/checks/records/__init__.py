"""Checks of what the records are: schema, mix, changes."""
