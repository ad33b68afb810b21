"""The run's report as data, and its views: terminal, Markdown and JSON."""
