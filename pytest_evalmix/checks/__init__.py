"""The checks, one module and one pure function per check id (see docs/checks.md)."""
