"""A column of a few distinct values, stored as one small code per row.

Origins, label sources, labellers, generators and review verdicts take a handful of values over
a million rows. A list would spend a pointer (8 bytes) per row on them; a code is 1 byte while
there are at most 256 distinct values, and widens to 2 and then 4 bytes if a column turns out
to be more varied. It also pickles as a few bytes per row, which matters when loader processes
hand their columns back.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar, overload

# A row's grid cell: its ``(axis, value)`` pairs as the record wrote them, or (from the fast
# loader, which reads only declared axes and values) every axis's value in the declared order.
GridKey = tuple[tuple[str, str], ...] | tuple[str, ...]

T = TypeVar("T", str, str | None, GridKey | None)

_WIDER = {"B": "H", "H": "I"}


class Column(Sequence[T], Generic[T]):
    """A read-only sequence of values by row; append and extend while loading."""

    __slots__ = ("_counts", "codebook", "codes", "values")

    def __init__(self, values: Iterable[T] = ()) -> None:
        self.values: list[T] = []
        # value -> code. A loader may append codes to `codes` itself, for values in here.
        self.codebook: dict[T, int] = {}
        self.codes: array[int] = array("B")
        self._counts: tuple[int, dict[T, int]] | None = None
        self.extend(values)

    @classmethod
    def of(cls, known: Iterable[T]) -> Column[T]:
        """An empty column whose first codes are ``known``, in order: columns made from the
        same values can be joined by copying their codes."""
        column = cls()
        for value in known:
            column._code(value)
        return column

    def counts(self) -> dict[T, int]:
        """Rows per value, in the order values were first seen (values with no row left out).

        Every check and every view asks for the mix, so it is counted once per change.
        """
        # Rows are only ever added, so the row count tells whether the tally is current.
        if self._counts is None or self._counts[0] != len(self.codes):
            self._counts = (len(self.codes), self._count())
        return dict(self._counts[1])

    def _count(self) -> dict[T, int]:
        if len(self.values) > 16:  # one pass beats a count per value
            tally = Counter(self.codes)
            return {self.values[code]: tally[code] for code in sorted(tally)}
        found = {value: self.codes.count(code) for code, value in enumerate(self.values)}
        return {value: count for value, count in found.items() if count}

    def _code(self, value: T) -> int:
        code = self.codebook.get(value)
        if code is None:
            code = len(self.values)
            limit = 1 << (8 * self.codes.itemsize)
            if code >= limit:
                self.codes = array(_WIDER[self.codes.typecode], self.codes)
            self.codebook[value] = code
            self.values.append(value)
        return code

    def append(self, value: T) -> None:
        self.codes.append(self._code(value))

    def extend(self, values: Iterable[T]) -> None:
        if isinstance(values, Column):
            # Columns coded apart (loader processes) are joined through a table of codes,
            # which costs a C-level pass instead of a lookup per row.
            table = [self._code(value) for value in values.values]
            if table == list(range(len(table))) and (values.codes.typecode == self.codes.typecode):
                self.codes.extend(values.codes)
            else:
                self.codes.extend(array(self.codes.typecode, map(table.__getitem__, values.codes)))
            return
        elif not isinstance(values, list):
            values = list(values)
        for value in dict.fromkeys(values):  # every new value gets its code first
            self._code(value)
        self.codes.extend(map(self.codebook.__getitem__, values))

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, row: int) -> T: ...

    @overload
    def __getitem__(self, row: slice) -> list[T]: ...

    def __getitem__(self, row: int | slice) -> T | list[T]:
        if isinstance(row, slice):
            return [self.values[code] for code in self.codes[row]]
        return self.values[self.codes[row]]

    def __iter__(self) -> Iterator[T]:
        return map(self.values.__getitem__, self.codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Column, list, tuple)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Column({list(self)!r})"

    def __getstate__(self) -> tuple[list[T], array[int]]:
        return self.values, self.codes

    def __setstate__(self, state: tuple[list[T], array[int]]) -> None:
        self.values, self.codes = state
        self._counts = None
        self.codebook = {value: code for code, value in enumerate(self.values)}
