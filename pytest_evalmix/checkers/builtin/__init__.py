"""The built-in checkers, one module each: arithmetic, regex, sqlite (docs/checks.md)."""
