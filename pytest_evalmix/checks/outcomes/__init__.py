"""Checks of eval outcomes: pass-rates, failure-modes, coverage."""
