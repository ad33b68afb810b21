"""The paraphrase synthesizer: the background reading's prompt, a record/replay cache."""

from pytest_evalmix.synth.synthesizer import CacheMiss, Paraphrase, SynthesisError, Synthesizer

__all__ = ["CacheMiss", "Paraphrase", "SynthesisError", "Synthesizer"]
