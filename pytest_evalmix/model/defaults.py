"""Defaults shared by the pytest plugin, the ``evalmix`` command and the synthesizer.

Kept apart, with no imports, because ``pytest_plugin/hooks.py`` is loaded on every pytest run
and must stay cheap, while the CLI and the synthesizer must agree with its options.
"""

# The model that writes paraphrases (ini ``evalmix_model``, ``evalmix propose --model``).
MODEL = "claude-opus-4-7"
# How the synthesizer uses its cache (``--evalmix-synth``, ``evalmix propose --synth``).
SYNTH_MODES = ("replay", "record", "refresh")
# Cache, ledger, results and review logs, under the rootdir (ini ``evalmix_dir``).
EVALMIX_DIR = ".evalmix"
# The package version (``evalmix --version``, ``pytest_evalmix.__version__``).
VERSION = "0.1.0"
# The suffixes of record files, whose formats `pytest_evalmix.formats` reads (docs/formats.md).
RECORD_SUFFIXES = (".jsonl", ".json", ".yaml", ".yml", ".csv", ".parquet", ".arrow")
