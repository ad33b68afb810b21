"""Each row's input key (`model.normalise.input_key`, what `duplicates` groups by) for a
column of inputs, in two halves: the vectorised part with pyarrow (`key_parts`), the checksums
without it (`finish_keys`), so that a parent can do the second while its child scans the next
batch (docs/performance.md).
"""

from __future__ import annotations

import operator
import zlib
from array import array
from itertools import repeat
from typing import Any

from pytest_evalmix.model.normalise import input_key


def key_parts(pa: Any, pc: Any, column: Any) -> tuple[int, Any, Any, dict[int, int]]:
    """What `finish_keys` makes each row's `model.normalise.input_key` of: the row count, the
    offsets and bytes of the lowered plain rows (empty for the others), and the keys of the
    others, by `input_key` itself.

    Printable ASCII with no space at either end and no double space inside is its own normal
    form but for case, so its key is the two checksums of its lowered bytes.
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        keys = array("Q", map(input_key, column.to_pylist()))
        return len(keys), array("q", [0]) * (len(keys) + 1), b"", dict(enumerate(keys))
    plain = pc.and_(
        pc.ascii_is_printable(column),  # (false for any byte beyond ASCII)
        pc.invert(
            pc.or_(
                pc.match_substring_regex(column, "  "),  # (RE2 beats the plain search)
                pc.or_(pc.starts_with(column, " "), pc.ends_with(column, " ")),
            )
        ),
    )
    plain = pc.fill_null(plain, False)
    lowered = pc.if_else(plain, pc.ascii_lower(column), "").cast(pa.large_binary())
    others: dict[int, int] = {}
    if not pc.all(plain).as_py():
        rows = pc.indices_nonzero(pc.invert(plain))
        for row, value in zip(rows.to_pylist(), pc.take(column, rows).to_pylist(), strict=True):
            others[row] = input_key(value)
    count = len(lowered)
    _, offsets, data = lowered.buffers()
    offsets_view = memoryview(offsets)[: (count + 1) * 8]
    return count, offsets_view, memoryview(data) if data is not None else b"", others


def finish_keys(count: int, offsets: Any, data: Any, others: dict[int, int]) -> array[int]:
    """Each row's input key from `_key_parts`: the checksums at C speed (`map`), no pyarrow,
    so that a parent can do it while its child scans the next batch."""
    bounds = array("q")
    bounds.frombytes(offsets)
    view = memoryview(data)
    pieces = list(map(view.__getitem__, map(slice, bounds[:-1], bounds[1:])))
    high = map(operator.lshift, map(zlib.crc32, pieces), repeat(32))
    keys = array("Q", map(operator.or_, high, map(zlib.adler32, pieces)))
    del keys[count:]
    for row, key in others.items():
        keys[row] = key
    return keys
