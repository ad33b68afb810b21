"""Which Arrow columns hold plain JSON, and batches with their dictionary encodings taken off:
the type questions `arrow_scan` asks before it judges a batch as columns (docs/formats.md).
"""

from __future__ import annotations

from typing import Any


def json_column(pa: Any, arrow_type: Any, top: bool = True) -> bool:
    """Whether every value of a column is plain JSON without looking at it: no bytes, no map
    (its keys need not be text), and no float below the top, where a NaN would hide; a top-level
    float column is tested for NaN and infinities by `finite`. Any other column goes row by
    row, where the model refuses what is not JSON (docs/formats.md)."""
    types = pa.types
    if types.is_floating(arrow_type):
        return top
    if types.is_list(arrow_type) or types.is_large_list(arrow_type):
        return json_column(pa, arrow_type.value_type, False)
    if types.is_struct(arrow_type):
        return all(
            json_column(pa, arrow_type.field(i).type, False) for i in range(arrow_type.num_fields)
        )
    return bool(
        types.is_string(arrow_type)
        or types.is_large_string(arrow_type)
        or types.is_integer(arrow_type)
        or types.is_boolean(arrow_type)
        or types.is_null(arrow_type)
        or types.is_temporal(arrow_type)
    )


def finite(pa: Any, pc: Any, batch: Any) -> bool:
    gold = batch.column("gold")
    if not pa.types.is_floating(gold.type):
        return True
    return not pc.any(pc.invert(pc.is_finite(gold))).as_py()


def plain_type(pa: Any, arrow_type: Any) -> Any:
    """The type with every dictionary encoding taken off (pandas categoricals, say)."""
    types = pa.types
    if types.is_dictionary(arrow_type):
        return plain_type(pa, arrow_type.value_type)
    if types.is_struct(arrow_type):
        return pa.struct(
            [
                child.with_type(plain_type(pa, child.type))
                for child in (arrow_type.field(i) for i in range(arrow_type.num_fields))
            ]
        )
    if types.is_list(arrow_type) or types.is_large_list(arrow_type):
        return pa.list_(plain_type(pa, arrow_type.value_type))
    return arrow_type


def decoded(pa: Any, batch: Any) -> Any:
    """A batch with dictionary-encoded columns decoded, so that one set of column tests serves
    every encoding a writer chose (the values, and so the findings, are the same)."""
    schema = batch.schema
    plain = pa.schema([field.with_type(plain_type(pa, field.type)) for field in schema])
    if plain.equals(schema):
        return batch
    try:
        # column by column: `RecordBatch.cast` is newer than the pyarrow 14 we support
        columns = [batch.column(index).cast(field.type) for index, field in enumerate(plain)]
        return pa.RecordBatch.from_arrays(columns, schema=plain)
    except (TypeError, ValueError, NotImplementedError):
        return batch  # left as it is: the row by row path reads it
