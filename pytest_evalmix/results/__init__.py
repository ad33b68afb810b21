"""Eval outcomes: the evalmix results file, other harnesses' outputs, and outcomes of pytest
evals.
"""
