"""The paraphrase synthesizer (docs/synthesizer.md): the background reading's prompt, a
record/replay cache,
and the ledger that later catches its output passed off as a human gold.

It synthesizes inputs only, never gold answers ("synthesize the input, hand-label the output").
Nothing here imports pytest, so the CLI (``evalmix propose``) drives the same object as the
fixtures. ``anthropic`` is imported on the first real API call and never in replay mode: CI
replays a committed cache with no key and no SDK start-up cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_evalmix.errors import EvalmixWarning
from pytest_evalmix.files.atomic import write_atomic
from pytest_evalmix.files.paths import check_write
from pytest_evalmix.model.defaults import SYNTH_MODES
from pytest_evalmix.state import ledger

if TYPE_CHECKING:
    from anthropic import Anthropic

MODES = SYNTH_MODES
CACHE_DIR = "cache"
API_KEY_ENV = "ANTHROPIC_API_KEY"

# The prompt of the background reading, word for word: records carry ``prompt_sha256`` of it, so
# changing one character orphans every committed cache entry and every recorded hash.
PROMPT = (
    "Rewrite the message below {n} ways. Vary tone, formality, and "
    "information missing. Keep intent identical. Do not invent details "
    "the seed does not provide. One per line.\n\nSeed: {seed}"
)

# A list marker at the start of a line: "1.", "1)", "(1)", "-", "*", "•", "–", followed by space.
# The space is required, so "-5% off" or "*nix" keep their first character.
_MARKER = re.compile(r"^(?:\(?\d{1,3}[.)]|[-*•–])\s+")
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("`", "`"))


class SynthesisError(Exception):
    """A synthesizer failure with a message that says what to do. It never carries the API key."""


class CacheMiss(SynthesisError):
    """Replay mode found no cached answer. The message ends with the command that records it."""

    def __init__(self, detail: str, command: str) -> None:
        self.detail = detail
        self.command = command
        super().__init__(self.render(command))

    def render(self, command: str) -> str:
        """The message with another recording command, e.g. one naming the test's node id."""
        return f"{self.detail}\nTo record it, set {API_KEY_ENV} and run:\n    {command}"


@dataclass(frozen=True)
class CacheEntry:
    """One stored answer. ``created`` is the day the model produced it, which the ledger keeps."""

    model: str
    prompt: str
    params: dict[str, Any]
    response: str
    stop_reason: str | None
    created: str

    def to_json(self) -> str:
        data = {
            "model": self.model,
            "prompt": self.prompt,
            "params": self.params,
            "response": self.response,
            "stop_reason": self.stop_reason,
            "created": self.created,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> CacheEntry:
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("JSON nested too deeply to read") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        fields = {"model": str, "prompt": str, "params": dict, "response": str, "created": str}
        for name, kind in fields.items():
            if not isinstance(data.get(name), kind):
                raise ValueError(f"field {name!r} is missing or not a {kind.__name__}")
        dt.date.fromisoformat(data["created"])
        stop = data.get("stop_reason")
        return cls(
            model=data["model"],
            prompt=data["prompt"],
            params=data["params"],
            response=data["response"],
            stop_reason=stop if isinstance(stop, str) else None,
            created=data["created"],
        )


def cache_key(model: str, prompt: str, params: dict[str, Any]) -> str:
    """The request's identity. The endpoint is left out on purpose: an answer recorded through a
    proxy or a stand-in replays the same as one from api.anthropic.com."""
    blob = json.dumps(
        {"model": model, "prompt": prompt, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _unquote(text: str) -> str:
    """``"text"`` -> ``text``, but ``"Hi," she said, "thanks"`` stays whole: a quote inside the
    text, other than an apostrophe between letters, means the outer ones are not a wrapper."""
    for opening, closing in _QUOTE_PAIRS:
        if len(text) < 2 or not (text.startswith(opening) and text.endswith(closing)):
            continue
        inner = text[1:-1]
        for i, char in enumerate(inner):
            if char in (opening, closing):
                between_letters = 0 < i < len(inner) - 1 and (
                    inner[i - 1].isalnum() and inner[i + 1].isalnum()
                )
                if not between_letters:
                    return text
        return inner.strip()
    return text


def parse_variants(text: str, seed: str, n: int, *, truncated: bool = False) -> list[str]:
    """The distinct rewrites in a model answer, at most ``n``.

    Asked for one rewrite a line, a model still numbers them, quotes them, repeats one, echoes
    the seed, or adds a line of preamble. When most lines carry a list marker, the lines without
    one are that commentary and are dropped. A ``truncated`` answer (``max_tokens`` reached) loses
    its last line, which may be cut mid-sentence.
    """
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if truncated and lines:
        lines.pop()
    marked = [line for line in lines if _MARKER.match(line)]
    if marked and len(marked) * 2 > len(lines):
        lines = marked
    seen = {ledger.normalize(seed)}
    variants: list[str] = []
    for line in lines:
        variant = _unquote(_MARKER.sub("", line, count=1).strip())
        key = ledger.normalize(variant)
        if not key or key in seen:
            continue
        seen.add(key)
        variants.append(variant)
        if len(variants) == n:
            break
    return variants


def _display(path: Path) -> str:
    """A path relative to the working directory when it is below it: shorter to read."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _api_detail(body: object) -> str:
    """The API's own explanation, from ``{"error": {"type", "message"}}``, kept short."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            parts = [str(error[k]) for k in ("type", "message") if error.get(k)]
            if parts:
                return _short(": ".join(parts), 200)
    return ""


def _status_advice(status: int, model: str) -> str:
    if status == 401:
        return f"the API key was refused; check {API_KEY_ENV}"
    if status == 403:
        return f"the key may not use this model or workspace; check {API_KEY_ENV} and its workspace"
    if status == 404:
        return f"model {model!r} was not found; check the ini option evalmix_model"
    if status == 429:
        return "rate limited even after the SDK's retries; try again later or lower concurrency"
    if status >= 500:
        return "the API failed even after the SDK's retries; try again later"
    return "the API rejected the request; check the ini option evalmix_model"


class Synthesizer:
    """Paraphrases seeds through the cache, the API and the ledger, in the given cache mode.

    One instance is meant to live for a whole run and may be used from several threads: the
    client is created once, lazily, and shared; cache writes are atomic; ledger appends are whole
    lines.
    """

    def __init__(
        self,
        *,
        model: str,
        evalmix_dir: Path,
        mode: str = "replay",
        record_hint: str = "pytest --evalmix-synth=record",
        today: dt.date | None = None,
        base_url: str | None = None,
        max_tokens: int = 1024,
        rootdir: Path | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.model = model
        self.mode = mode
        self.evalmix_dir = Path(evalmix_dir)
        # Cache and ledger writes must stay in evalmix_dir, and it in the rootdir when it is
        # there as written: never through a committed symlink (see `paths.check_write`).
        self.rootdir = rootdir
        self.cache_dir = self.evalmix_dir / CACHE_DIR
        self.ledger_path = self.evalmix_dir / ledger.LEDGER_NAME
        self.record_hint = record_hint
        self.today = today or dt.date.today()
        self.base_url = base_url
        self.max_tokens = max_tokens
        self._lock = threading.Lock()
        self._client: Anthropic | None = None
        self._ledgered: set[str] | None = None
        self._refreshed: set[str] = set()

    def __repr__(self) -> str:
        return (
            f"Synthesizer(model={self.model!r}, mode={self.mode!r}, "
            f"evalmix_dir={str(self.evalmix_dir)!r})"
        )

    # -- requests --------------------------------------------------------------------------

    def prompt(self, seed: str, n: int) -> str:
        return PROMPT.format(n=n, seed=seed)

    @property
    def params(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens}

    def cache_path(self, seed: str, n: int = 10) -> Path:
        """Where the answer for this request is (or would be) stored."""
        key = cache_key(self.model, self.prompt(seed, n), self.params)
        return self.cache_dir / f"{key}.json"

    def paraphrase(self, seed: str, n: int = 10) -> list[str]:
        """Up to ``n`` distinct rewrites of ``seed``; fewer gives an `EvalmixWarning`."""
        __tracebackhide__ = True
        _validate(seed, n)
        entry = self._entry(seed, n)
        return self._hand_out([(seed, n, entry)])[0]

    def paraphrase_many(
        self, seeds: Sequence[str], n: int = 10, concurrency: int = 8
    ) -> list[list[str]]:
        """`paraphrase` for every seed, with up to ``concurrency`` requests in flight.

        Results come back in input order. A seed given twice is requested once. When some
        requests fail, the others still finish and are cached, so a rerun only pays for the
        rest; the first failure in input order is raised, and replay misses are reported
        together.
        """
        __tracebackhide__ = True
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        seeds = list(seeds)
        for seed in seeds:
            _validate(seed, n)
        unique = list(dict.fromkeys(seeds))
        entries: dict[str, CacheEntry] = {}
        errors: dict[str, SynthesisError] = {}
        if unique:
            pool = ThreadPoolExecutor(max_workers=min(concurrency, len(unique)))
            try:
                futures: dict[str, Future[CacheEntry]] = {
                    seed: pool.submit(self._entry, seed, n) for seed in unique
                }
                for seed, future in futures.items():
                    try:
                        entries[seed] = future.result()
                    except SynthesisError as exc:
                        errors[seed] = exc
            finally:
                # On Ctrl-C, requests not yet sent are dropped instead of all being paid for.
                pool.shutdown(wait=True, cancel_futures=True)
        if errors:
            misses = [e for e in errors.values() if isinstance(e, CacheMiss)]
            if len(misses) < len(errors):
                raise next(e for e in errors.values() if not isinstance(e, CacheMiss))
            if len(misses) == 1:
                raise misses[0]
            raise CacheMiss(
                f"{len(misses)} of {len(unique)} paraphrase requests (model {self.model}, "
                f"n={n}) have no cached answer in {_display(self.cache_dir)} (replay mode), "
                f"the first for seed {_short(next(iter(errors)))!r}",
                self.record_hint,
            )
        return self._hand_out([(seed, n, entries[seed]) for seed in seeds])

    # -- cache -----------------------------------------------------------------------------

    def _entry(self, seed: str, n: int) -> CacheEntry:
        __tracebackhide__ = True
        prompt = self.prompt(seed, n)
        key = cache_key(self.model, prompt, self.params)
        path = self.cache_dir / f"{key}.json"
        if self.mode != "refresh" or key in self._refreshed:
            cached = self._read(path)
            if cached is not None:
                return cached
            if self.mode == "replay":
                raise CacheMiss(
                    f"no cached answer for paraphrase({_short(seed)!r}, n={n}) from "
                    f"{self.model} in replay mode (no {_display(path)})",
                    self.record_hint,
                )
        entry = self._call_api(prompt)
        try:
            write_atomic(path, entry.to_json(), base=self.evalmix_dir, rootdir=self.rootdir)
        except OSError as exc:
            raise SynthesisError(
                f"cannot write the cache entry {path}: {exc.strerror or exc}; check that "
                f"{self.cache_dir} is writable (ini evalmix_dir)"
            ) from None
        with self._lock:
            self._refreshed.add(key)
        return entry

    def _read(self, path: Path) -> CacheEntry | None:
        """The stored entry; ``None`` when there is none, or when record mode will replace a
        broken one (a merge conflict, a truncated copy). In replay a broken entry is a miss that
        says so: silently re-asking is not replay."""
        __tracebackhide__ = True
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            problem = str(exc)
        else:
            try:
                return CacheEntry.from_json(text)
            except ValueError as exc:
                problem = str(exc)
        if self.mode != "replay":
            return None
        raise CacheMiss(
            f"cache entry {_display(path)} is unreadable ({problem}); record mode replaces it",
            self.record_hint,
        )

    # -- API -------------------------------------------------------------------------------

    def _get_client(self) -> Anthropic:
        __tracebackhide__ = True
        with self._lock:
            if self._client is None:
                key = os.environ.get(API_KEY_ENV, "").strip()
                if not key:
                    raise SynthesisError(
                        f"--evalmix-synth={self.mode} calls the Anthropic API, which needs a key, "
                        f"but {API_KEY_ENV} is not set. Set {API_KEY_ENV} and rerun, or replay the "
                        "committed cache with --evalmix-synth=replay"
                    )
                from anthropic import Anthropic

                # The key is passed explicitly so the SDK does not go looking for profiles or
                # other credentials; its default retries (429, 5xx, connection errors) stay on.
                self._client = Anthropic(api_key=key, base_url=self.base_url)
            return self._client

    def _call_api(self, prompt: str) -> CacheEntry:
        __tracebackhide__ = True
        client = self._get_client()
        import anthropic
        from anthropic.types import TextBlock

        try:
            message = client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                messages=[{"role": "user", "content": prompt}],
            )
        except anthropic.APIStatusError as exc:
            detail = _api_detail(exc.body)
            request_id = f"; request id {exc.request_id}" if exc.request_id else ""
            message_text = (
                f"Anthropic API error {exc.status_code}"
                + (f" ({detail})" if detail else "")
                + f" for model {self.model}: {_status_advice(exc.status_code, self.model)}"
                + request_id
            )
            raise SynthesisError(self._redact(message_text)) from None
        except anthropic.APIConnectionError as exc:
            where = "ANTHROPIC_BASE_URL" if self.base_url is None else "the base_url"
            kind = "timed out" if isinstance(exc, anthropic.APITimeoutError) else "failed"
            raise SynthesisError(
                f"connecting to the Anthropic API {kind} even after the SDK's retries; check the "
                f"network, or {where} if you set one"
            ) from None
        except anthropic.APIResponseValidationError:
            raise self._malformed("a JSON body that is not a message") from None
        except ValueError:  # the SDK parsing a 200 answer that is not JSON at all
            raise self._malformed("invalid JSON") from None
        content = getattr(message, "content", None)
        if not isinstance(content, list):
            what = "a body that is not JSON" if isinstance(message, str) else "JSON with no content"
            raise self._malformed(what)
        text = "".join(block.text for block in content if isinstance(block, TextBlock))
        return CacheEntry(
            model=self.model,
            prompt=prompt,
            params=self.params,
            response=text,
            stop_reason=message.stop_reason,
            created=self.today.isoformat(),
        )

    def _malformed(self, what: str) -> SynthesisError:
        """A 200 answer that is not a message: a proxy, a gateway or a captive portal answered
        in the API's place. One line, like every other API failure, never the SDK's traceback."""
        where = "ANTHROPIC_BASE_URL" if self.base_url is None else "the base_url"
        return SynthesisError(
            f"the Anthropic API answered 200 with {what} instead of a message, for model "
            f"{self.model}: something other than the API may have answered; check {where} and "
            "the network, then try again"
        )

    def _redact(self, text: str) -> str:
        key = os.environ.get(API_KEY_ENV, "").strip()
        return text.replace(key, "[redacted]") if len(key) >= 8 else text

    # -- hand-out: parse, warn, ledger -----------------------------------------------------

    def _hand_out(self, requests: list[tuple[str, int, CacheEntry]]) -> list[list[str]]:
        """Parse each answer, warn about short ones, and ledger every text handed out.

        The ledger gets a line per text not already in it, dated the day the model produced it,
        so replaying a committed cache leaves a committed ledger unchanged.
        """
        results: list[list[str]] = []
        fresh: dict[tuple[str, str], list[str]] = {}
        with self._lock:
            if self._ledgered is None:
                self._ledgered = set(ledger.read(self.ledger_path))
            known = self._ledgered
            for seed, n, entry in requests:
                variants = parse_variants(
                    entry.response, seed, n, truncated=entry.stop_reason == "max_tokens"
                )
                results.append(variants)
                for variant in variants:
                    digest = ledger.digest(variant)
                    if digest not in known:
                        known.add(digest)
                        fresh.setdefault((entry.model, entry.created), []).append(variant)
        try:
            if fresh:
                check_write(self.ledger_path, self.evalmix_dir, self.rootdir)
            for (model, created), texts in fresh.items():
                ledger.append(self.ledger_path, texts, model, dt.date.fromisoformat(created))
        except OSError as exc:
            raise SynthesisError(
                f"cannot append to the synthesis ledger {self.ledger_path}: "
                f"{exc.strerror or exc}; check that it is writable (ini evalmix_dir)"
            ) from None
        for (seed, n, _entry), variants in zip(requests, results, strict=True):
            if len(variants) < n:
                warnings.warn(
                    EvalmixWarning(
                        f"paraphrase({_short(seed)!r}, n={n}) got {len(variants)} distinct "
                        f"rewrites of {n} from {self.model}; the answer is in "
                        f"{_display(self.cache_path(seed, n))}"
                    ),
                    stacklevel=3,
                )
        return results


def _validate(seed: object, n: object) -> None:
    if not isinstance(seed, str) or not seed.strip():
        raise SynthesisError(f"a seed must be a non-empty string, not {seed!r}")
    try:
        seed.encode("utf-8")
    except UnicodeEncodeError:
        raise SynthesisError(
            f"a seed must be text, and {seed!r} holds a lone surrogate that no API can receive"
        ) from None
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SynthesisError(f"n must be a positive integer, not {n!r}")


class Paraphrase(Protocol):
    """The ``paraphrase`` fixture's type, for annotating tests."""

    def __call__(self, seed: str, n: int = 10) -> list[str]: ...
