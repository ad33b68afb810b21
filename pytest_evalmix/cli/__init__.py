"""The ``evalmix`` command: `main` parses, one module per subcommand does the work (docs/cli.md)."""
