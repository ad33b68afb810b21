"""A set as it was at a git revision, and what changed since (``--evalmix-base``, ``evalmix
history``).
"""
