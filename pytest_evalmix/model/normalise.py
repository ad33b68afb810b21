"""Inputs made comparable: the normal form that `duplicates` and `leakage` compare, and a 64-bit
key of it that every loader stores per row (docs/checks.md, "duplicates").

The normal form is Unicode NFKC, case folded, runs of whitespace made one space, ends stripped;
a structured input is the canonical JSON of its normalised strings. The key is cheap enough to
compute for every record of a million-example set while it loads (an ASCII fast path skips NFKC
and `split` when they could change nothing), and equal normal forms always get equal keys.
Equal keys do not prove equal inputs: the checks confirm every group on the normal forms.
"""

from __future__ import annotations

import json
import unicodedata
import zlib
from typing import Any

_crc32 = zlib.crc32
_adler32 = zlib.adler32


def normal_text(text: str) -> str:
    """NFKC, case folded, whitespace runs made one space, ends stripped."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _normal_value(value: Any) -> Any:
    if isinstance(value, str):
        return normal_text(value)
    if isinstance(value, dict):
        return {str(key): _normal_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal_value(item) for item in value]
    return value


def normal_form(value: Any) -> str:
    """The normal form of an input: its normalised text, or for any other JSON value the
    canonical JSON (sorted keys, no spaces) of the value with every string normalised."""
    if value.__class__ is str:
        return normal_text(value)
    return json.dumps(
        _normal_value(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def key_of_normal(normal: str) -> int:
    """The 64-bit key of a normal form (CRC-32 and Adler-32 of its UTF-8)."""
    data = normal.encode("utf-8", "surrogatepass")
    return _crc32(data) << 32 | _adler32(data)


def input_key(value: Any) -> int:
    """The key of an input's normal form. Runs once per record in the loaders' hot loops."""
    if value.__class__ is str and value.isascii():
        # Printable ASCII with single inner spaces and no space at either end is already its
        # own normal form but for case: skip the split and join.
        if value.isprintable() and "  " not in value and value[:1] != " " != value[-1:]:
            data = value.lower().encode()
        else:
            data = " ".join(value.lower().split()).encode()
        return _crc32(data) << 32 | _adler32(data)
    return key_of_normal(normal_form(value))
