"""Checkers: code that computes or verifies a gold, so the gold is programmatic
(docs/checks.md#gold-provenance).
"""
