"""Propose and dispose: synthetic candidates into a queue, a human's decisions out of it."""
