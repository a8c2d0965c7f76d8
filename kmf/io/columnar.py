"""Sum Parquet files' activity records into cells on small integer codes.

The common case — a Parquet file whose year, cut and price year are the same in every row
(files written one per cut), with integer kommunekoder and ages and dictionary-encoded
text — is summed here without decoding the text: pyarrow reads each row group with its
dictionaries; kommunekode, age and area become a cell number through lookup tables, and
the two amounts are added per cell — by one compiled loop (numba) for large inputs, by
numpy passes over each batch for small ones, where compiling would cost more than it
saves. Row groups, of all files, are summed in parallel; memory stays at a row group per
worker.

Anything unusual — a null, a value outside the lookup tables, another column type, a year
that varies within the file — makes the file's result ``None``, and the caller takes the
general path (:mod:`kmf.io.aggregate`), which checks every value and names the offending rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from kmf import codes

# rows summed by one task; a row group larger than BATCH_ROWS is read in batches of it
PART_ROWS = 1 << 20
BATCH_ROWS = 1 << 22
# from this many records on, the files are summed by the compiled loop
COMPILED_ROWS = 1 << 26

_KOMMUNER = sorted(codes.kommune_codes())
_AREAS = list(codes.AREAS)
_GROUPS = list(codes.AGE_GROUPS)
# whole years 0..MAX_AGE → index of the age group; each group is written back as its
# youngest age, which maps to the same group downstream
_UPPER = [upper for upper, _ in codes.AGE_BOUNDS]
_AGE_BY_YEAR = np.searchsorted(_UPPER, np.arange(codes.MAX_AGE + 1))
_YEAR_LUT = _AGE_BY_YEAR * len(_AREAS)  # whole years → the age part of a cell number
_YOUNGEST = [0] + [upper + 1 for upper in _UPPER[:-1]]

# a lookup entry for a value that is not a code: any cell number it enters is negative
_INVALID = -(1 << 40)


@dataclass(frozen=True)
class FileSpec:
    """A Parquet file to sum: its footer (already read), its column names, the age column
    and the columns known to have one value in the whole file."""

    path: Path
    metadata: pq.FileMetaData
    names: Mapping[str, str]
    age_column: str
    constants: Mapping[str, object]
    # the row groups to sum (one cut of a file holding several); None: all
    row_groups: tuple[int, ...] | None = None

    @property
    def groups(self) -> Sequence[int]:
        return range(self.metadata.num_row_groups) if self.row_groups is None else self.row_groups

    @property
    def rows(self) -> int:
        return sum(self.metadata.row_group(g).num_rows for g in self.groups)


@dataclass(frozen=True)
class _Plan:
    """A file the columnar path can sum: the columns to read, the cell layout (kommune ×
    age × area) with its lookup tables, and the parts (consecutive row groups of about
    PART_ROWS rows each) that are summed one per task."""

    spec: FileSpec
    columns: list[str]
    text: list[str]
    n_age: int
    kommune_lut: np.ndarray
    parts: list[list[int]]

    @property
    def size(self) -> int:
        return len(_KOMMUNER) * self.n_age * len(_AREAS)

    def batches(self, row_groups: list[int]) -> Iterator[pa.RecordBatch]:
        parquet = pq.ParquetFile(
            self.spec.path, metadata=self.spec.metadata, read_dictionary=self.text,
            memory_map=True,
        )  # fmt: skip
        for i in row_groups:
            if self.spec.metadata.row_group(i).num_rows > BATCH_ROWS:
                yield from parquet.iter_batches(
                    batch_size=BATCH_ROWS, row_groups=[i], columns=self.columns,
                    use_threads=False,
                )  # fmt: skip
            else:
                table = parquet.read_row_group(i, columns=self.columns, use_threads=False)
                yield from table.to_batches()


def sum_files(
    specs: Sequence[FileSpec],
    pool: Executor,
    progress: Callable[[int, int], None] | None = None,
) -> list[pl.DataFrame | None]:
    """Each file's records summed per (kommunekode, age, sundhedsomraade), or ``None``.

    The result has the raw key columns (kommunekode, the age column, sundhedsomraade), the
    sums ``produktionsvaerdi`` and ``kmf`` in whole steps (as :func:`kmf.io.on_grid`), the
    record count ``rows`` and null counts ``_p_null``/``_k_null`` (always 0).
    """
    plans = list(pool.map(_plan, specs))
    records = sum(plan.spec.rows for plan in plans if plan is not None)
    # compiling (or loading) the loop costs about a second; below COMPILED_ROWS records
    # numpy's passes over each batch are quicker in all. Above, the loop is loaded in a
    # thread while the first batches are summed by numpy (the sums are the same exact steps)
    add: Callable[..., int] = _add_numpy
    if records >= COMPILED_ROWS:
        if not _KERNEL:
            threading.Thread(target=_kernel, daemon=True).start()
        add = _kernel_when_ready
    jobs = [(n, plan, part) for n, plan in enumerate(plans) if plan is not None
            for part in plan.parts]  # fmt: skip

    def run(job: tuple[int, _Plan, list[int]]) -> _Sums | None:
        n, plan, part = job
        step = None if progress is None else lambda rows: progress(n, rows)
        return _sum_part(plan, part, add, step)

    partial = iter(pool.map(run, jobs))
    out: list[pl.DataFrame | None] = []
    for plan in plans:
        if plan is None:
            out.append(None)
            continue
        sums = [next(partial) for _ in plan.parts]
        complete = [s for s in sums if s is not None]
        out.append(_frame(plan, complete) if len(complete) == len(sums) else None)
    return out


def _plan(spec: FileSpec) -> _Plan | None:
    names, constants, age_column = spec.names, spec.constants, spec.age_column
    if "aar" not in constants or "opgoerelse" not in constants:
        return None
    if any(k in names and k not in constants for k in ("takstaar", "opgoerelsesdato")):
        return None
    keys = ["kommunekode", age_column, "sundhedsomraade"]
    wanted = [*keys, "produktionsvaerdi", "kmf"]
    if any(name not in names for name in wanted):
        return None
    try:
        schema = spec.metadata.schema.to_arrow_schema()
    except (OSError, pa.ArrowException):
        return None
    kind = {k: schema.field(names[k]).type for k in wanted}
    if not (
        pa.types.is_integer(kind["kommunekode"])
        and all(_numeric(kind[k]) for k in ("produktionsvaerdi", "kmf"))
        and _is_text(kind["sundhedsomraade"])
        and (
            _is_text(kind[age_column])
            if age_column == "aldersgruppe"
            else pa.types.is_integer(kind[age_column])
        )
    ):
        return None
    if not all(
        _within(spec.metadata, names[k], codes.MAX_AMOUNT, spec.groups)
        for k in ("produktionsvaerdi", "kmf")
    ):
        return None
    text = [names[k] for k in ("aldersgruppe", "sundhedsomraade") if k in keys]
    n_age = len(_GROUPS) if age_column == "aldersgruppe" else len(_YOUNGEST)
    kommune_lut = np.full(max(_KOMMUNER) + 1, _INVALID, dtype=np.int64)
    kommune_lut[_KOMMUNER] = np.arange(len(_KOMMUNER)) * n_age * len(_AREAS)
    return _Plan(spec, [names[c] for c in wanted], text, n_age, kommune_lut, _parts(spec))


def _within(metadata: pq.FileMetaData, column: str, bound: float, groups: Sequence[int]) -> bool:
    """Every row group's statistics show the column within ±``bound`` (no statistics: no)."""
    index = metadata.schema.names.index(column)
    for g in groups:
        stats = metadata.row_group(g).column(index).statistics
        if stats is None or not stats.has_min_max:
            return False
        if not -bound <= stats.min <= stats.max <= bound:
            return False
    return True


def _parts(spec: FileSpec) -> list[list[int]]:
    parts: list[list[int]] = [[]]
    rows = 0
    for i in spec.groups:
        if rows >= PART_ROWS:
            parts.append([])
            rows = 0
        parts[-1].append(i)
        rows += spec.metadata.row_group(i).num_rows
    return parts


_Sums = tuple[np.ndarray, np.ndarray, np.ndarray]


def _sum_part(
    plan: _Plan,
    row_groups: list[int],
    add: Callable[..., int],
    progress: Callable[[int], None] | None = None,
) -> _Sums | None:
    production = np.zeros(plan.size)
    kmf = np.zeros(plan.size)
    rows = np.zeros(plan.size, dtype=np.int64)
    try:
        for batch in plan.batches(row_groups):
            if any(column.null_count for column in batch.columns):
                return None
            if plan.spec.age_column == "aldersgruppe":
                age, age_lut = _text_codes(batch.column(1), _GROUPS, len(_AREAS))
            else:
                age, age_lut = _integers(batch.column(1)), _YEAR_LUT
            area, area_lut = _text_codes(batch.column(2), _AREAS, 1)
            bad = add(
                _integers(batch.column(0)), age, area,
                _floats(batch.column(3)), _floats(batch.column(4)),
                plan.kommune_lut, age_lut, area_lut, production, kmf, rows,
            )  # fmt: skip
            if bad >= 0:
                return None
            if progress is not None:
                progress(batch.num_rows)
    except (OSError, pa.ArrowException):
        return None
    return production, kmf, rows


def _frame(plan: _Plan, sums: list[_Sums]) -> pl.DataFrame | None:
    production = np.sum([s[0] for s in sums], axis=0)
    kmf = np.sum([s[1] for s in sums], axis=0)
    rows = np.sum([s[2] for s in sums], axis=0)
    if not (np.isfinite(production).all() and np.isfinite(kmf).all()):
        return None
    used = np.flatnonzero(rows)
    kommune_i, rest = np.divmod(used, plan.n_age * len(_AREAS))
    age_i, area_i = np.divmod(rest, len(_AREAS))
    age_column = plan.spec.age_column
    ages = (
        pl.Series(age_column, [_GROUPS[i] for i in age_i], dtype=pl.String)
        if age_column == "aldersgruppe"
        else pl.Series(age_column, np.asarray(_YOUNGEST)[age_i], dtype=pl.Int64)
    )
    return pl.DataFrame(
        [
            pl.Series("kommunekode", np.asarray(_KOMMUNER)[kommune_i], dtype=pl.Int64),
            ages,
            pl.Series("sundhedsomraade", [_AREAS[i] for i in area_i], dtype=pl.String),
            pl.Series("produktionsvaerdi", production[used]),
            pl.Series("kmf", kmf[used]),
            pl.Series("rows", rows[used]),
            pl.Series("_p_null", np.zeros(len(used), dtype=np.int64)),
            pl.Series("_k_null", np.zeros(len(used), dtype=np.int64)),
        ]
    )


_KERNEL: list[Callable[..., int]] = []
_KERNEL_LOCK = threading.Lock()


def _add_numpy(
    kommune: np.ndarray, age: np.ndarray, area: np.ndarray,
    production: np.ndarray, kmf: np.ndarray,
    kommune_lut: np.ndarray, age_lut: np.ndarray, area_lut: np.ndarray,
    out_production: np.ndarray, out_kmf: np.ndarray, out_rows: np.ndarray,
) -> int:  # fmt: skip
    """What the compiled loop does, in numpy passes over the batch; 0 where a record is
    not a valid code (not its index: the caller only needs to know), else -1."""
    cells = np.zeros(len(kommune), dtype=np.int64)
    for values, lut in ((kommune, kommune_lut), (age, age_lut), (area, area_lut)):
        if len(values) and (values.min() < 0 or values.max() >= len(lut)):
            return 0
        cells += lut[values]
    if len(cells) and cells.min() < 0:
        return 0
    size = len(out_rows)
    # whole steps, as kmf.io.on_grid: exact sums in any order
    out_production += np.bincount(cells, _on_grid(production), size)
    out_kmf += np.bincount(cells, _on_grid(kmf), size)
    out_rows += np.bincount(cells, minlength=size)
    return -1


def _on_grid(kroner: np.ndarray) -> np.ndarray:
    """floor(kroner · AMOUNT_STEPS + 0.5) in one buffer."""
    steps = np.multiply(kroner, codes.AMOUNT_STEPS)
    steps += 0.5
    return np.floor(steps, out=steps)


def _kernel_when_ready(*args: Any) -> int:
    """The compiled loop once it is loaded, numpy's passes until then."""
    return (_KERNEL[0] if _KERNEL else _add_numpy)(*args)


def _kernel() -> Callable[..., int]:
    """The compiled loop (numba is imported only here), made once per process."""
    with _KERNEL_LOCK:
        if not _KERNEL:
            _KERNEL.append(_compile())
        return _KERNEL[0]


def _compile() -> Callable[..., int]:
    import math

    import numba

    steps = codes.AMOUNT_STEPS

    def add(kommune, age, area, production, kmf, kommune_lut, age_lut, area_lut,
            out_production, out_kmf, out_rows):  # fmt: skip
        """Add each record to its cell; the index of the first record that is not a valid
        code (or -1)."""
        for i in range(kommune.shape[0]):
            k, a, r = kommune[i], age[i], area[i]
            if not (
                0 <= k < kommune_lut.shape[0]
                and 0 <= a < age_lut.shape[0]
                and 0 <= r < area_lut.shape[0]
            ):
                return i
            cell = kommune_lut[k] + age_lut[a] + area_lut[r]
            if cell < 0:
                return i
            # whole steps, as kmf.io.on_grid: exact sums in any order
            out_production[cell] += math.floor(production[i] * steps + 0.5)
            out_kmf[cell] += math.floor(kmf[i] * steps + 0.5)
            out_rows[cell] += 1
        return -1

    try:
        return numba.njit(nogil=True, cache=True)(add)
    except RuntimeError:  # nowhere to keep the compiled code: compile in every run
        return numba.njit(nogil=True)(add)


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _floats(column: pa.Array) -> np.ndarray:
    return _values(column).astype(np.float64, copy=False)


def _integers(column: pa.Array) -> np.ndarray:
    """Signed integers: small widths as they are (no copy), unsigned ones as int64."""
    values = _values(column)
    if values.dtype.kind == "u":
        values = values.astype(np.int64)  # ≥ 2⁶³ wraps negative: not a code either way
    return values


def _values(column: pa.Array) -> np.ndarray:
    """The values of a numeric array without nulls, without a copy. (pyarrow's
    ``to_numpy`` would do, but its first call imports pandas where it is installed.)"""
    kind = column.type
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    return np.frombuffer(
        column.buffers()[1], dtype=dtype, count=len(column), offset=column.offset * dtype.itemsize
    )


def _text_codes(column: pa.Array, labels: list[str], step: int) -> tuple[np.ndarray, Any]:
    """A text column's dictionary indices and a lookup from index to ``step`` × the
    position of the (trimmed) word in ``labels`` — or _INVALID for any other word."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    words = [w.strip() for w in column.dictionary.to_pylist()]
    lookup = np.array(
        [labels.index(w) * step if w in labels else _INVALID for w in words], dtype=np.int64
    )
    return _integers(column.indices), lookup
