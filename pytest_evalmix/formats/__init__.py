"""One reader per record format (JSONL, JSON, YAML, CSV, Arrow/Parquet), the parallel path, and
presets for other tools' files.
"""
