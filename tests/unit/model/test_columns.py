"""`Column`: the coded storage behind the per-row columns of a loaded eval set."""

from __future__ import annotations

import pickle

from pytest_evalmix.formats.fastload import Piece
from pytest_evalmix.model.columns import Column


def test_column_reads_back_what_was_stored_and_widens_past_256_values() -> None:
    values = [f"v{i % 300}" if i % 7 else None for i in range(2_000)]
    column: Column[str | None] = Column()
    column.extend(values[:1_000])
    for value in values[1_000:]:
        column.append(value)
    assert list(column) == values
    assert column[5] == values[5] and column[-1] == values[-1]
    assert column[10:13] == values[10:13]
    assert column.codes.itemsize >= 2  # 300 distinct values no longer fit in a byte
    assert column.counts()[None] == values.count(None)
    assert pickle.loads(pickle.dumps(column)) == values


def test_counts_follow_appends_and_joining_columns_of_the_same_values() -> None:
    column = Column.of(["production", "synthetic", "adversarial"])
    assert column.counts() == {}
    column.extend(["synthetic", "production", "synthetic"])
    assert column.counts() == {"production": 1, "synthetic": 2}
    other = Column.of(["production", "synthetic", "adversarial"])
    other.append("adversarial")
    column.extend(other)
    column.append("production")
    assert column.counts() == {"production": 2, "synthetic": 2, "adversarial": 1}
    assert list(column) == ["synthetic", "production", "synthetic", "adversarial", "production"]


def test_a_piece_crosses_from_a_loader_child_with_every_id_intact() -> None:
    # Ids travel as one joined string unless one contains the separator.
    for ids in ([], ["a"], ["a", "b"], ["a\x1eb", "c"], ["x", "", "y"]):
        piece = Piece(Column.of(["production"]), Column.of(["human"]), ids=list(ids))
        assert pickle.loads(pickle.dumps(piece)).ids == ids
