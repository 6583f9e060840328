"""A CSV file as people have it, turned into inputs and targets.

- The first row names the columns. The label is the column called `label`, `target`,
  `y`, `class` or `species` (case ignored, first of those names that is present), or
  the one named by `label_column`.
- A label of strings gives named classes (sorted); a numeric label gives classes when
  it holds whole numbers with at most MAX_NUMERIC_CLASSES distinct values, and
  otherwise a regression target (a number to predict).
- Feature columns of numbers are kept as numbers, standardised with the training rows'
  mean and deviation unless `standardize` is False (a regression target too, so the
  squared error is in units of its deviation; `target_mean`/`target_std` undo that).
  Feature columns holding anything else are one-hot encoded, one input per value seen
  in the training rows (a value only the test rows have gives all zeros).
- A row with a missing value (empty, NA, N/A, NaN) in any column is dropped; how many
  is reported in `notes`.
- Kaggle's MNIST CSV layout (the label first, then 784 columns of whole numbers 0-255,
  or another square number of columns named like pixels) gives 28x28 uint8 images
  scaled by 1/255, like the IDX files.
- The test rows come from a second file with the same columns, else a seeded hold-out
  of `test_fraction` of the rows (stratified by class).

Anything that cannot be read raises DataError with one line naming the file and, where
it applies, the row (the line of the file, the header being row 1) and the column.
"""
from __future__ import annotations

import csv
import hashlib
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bpviz.data.errors import DataError

LABEL_NAMES = ("label", "target", "y", "class", "species")
MISSING = ("", "NA", "N/A", "NaN", "nan")
MAX_NUMERIC_CLASSES = 20  # more distinct whole numbers than this and the label is a quantity
MAX_VALUES = 100_000_000  # cells read from one file: 800 MB as float64, checked before they are kept
CHUNK_ROWS = 2048  # rows converted to numbers together
SNIFF_BYTES = 1 << 16
_PIXEL_NAME = re.compile(r"^(pixel|px|p)?_?\d+(x\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class TableData:
    """A CSV data set ready for training; `train_target` holds class indices (int64) for
    classes and float64 values for regression."""
    source: Path
    test_source: Path | None  # the --test file, None for a hold-out
    label_column: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None  # None: regression
    train_x: np.ndarray  # (n, features) float64, or uint8 images
    train_target: np.ndarray  # (n,)
    test_x: np.ndarray | None
    test_target: np.ndarray | None
    image_shape: tuple[int, int] | None
    scale: float | None  # 1/255 for images
    target_mean: float  # regression: the value a target of 0 stands for
    target_std: float  # regression: the size of one unit of the target
    notes: tuple[str, ...]
    sha256: str  # over the file(s) and the options that shape the arrays

    @property
    def task(self) -> str:
        return "regression" if self.class_names is None else "classification"


@dataclass
class _Raw:
    """Rows without a missing value: numeric columns as float64, the others as strings."""
    path: Path
    header: list[str]
    kinds: list[str | None]  # "num" or "str" per column
    numbers: np.ndarray  # (n, numeric columns) float64
    strings: np.ndarray  # (n, string columns) str
    lines: np.ndarray  # (n,) the row of the file each came from
    dropped: int
    first_missing: tuple[int, str] | None  # (row, column) of the first missing value

    def column(self, name: str) -> np.ndarray:
        j = self.header.index(name)
        k = sum(1 for kind in self.kinds[:j] if kind == self.kinds[j])
        return self.numbers[:, k] if self.kinds[j] == "num" else self.strings[:, k]


def _check_text(path: Path) -> tuple[str, bool]:
    """(the delimiter, whether the start of the file holds a quote), after ruling out a
    missing, empty or binary file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if size == 0 or not head.strip():
        raise DataError(f"{path}: the file is empty (a CSV file needs a header row and data rows)")
    zero = head.find(b"\x00")
    packed = head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04"  # gzip or zip
    if zero >= 0 or packed:
        where = "compressed data" if packed else f"a zero byte at offset {zero}"
        raise DataError(f"{path}: not a text file ({where}); a CSV file is text with one row per line")
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return (best if counts[best] else ","), b'"' in head


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(path: Path, header: list[str] | None) -> list[str]:
    if header is None or not any(h.strip() for h in header):
        raise DataError(f"{path}: row 1: the header row is empty")
    header = [h.strip() or f"column {j + 1}" for j, h in enumerate(header)]
    if all(_looks_numeric(h) for h in header):
        raise DataError(f"{path}: row 1 holds numbers, not column names; add a header row "
                        f"naming the columns, e.g. x1,x2,label")
    seen = set()
    for h in header:
        if h in seen:
            raise DataError(f"{path}: row 1: the column name {h!r} appears twice")
        seen.add(h)
    return header


def _line_blocks(f, delimiter: str, kinds: list[str | None]):
    """(float64 values, rows) per block of CHUNK_ROWS lines of a file without quotes: NumPy's
    C parser reads a block of numbers, and a block it refuses (words, gaps, a ragged row)
    is split by the csv module so the checks can name the row. Yields (values or None,
    rows or None, row numbers)."""
    line = 1  # the header
    while True:
        block = list(itertools.islice(f, CHUNK_ROWS))
        if not block:
            return
        first, line = line + 1, line + len(block)
        if all(k == "num" for k in kinds) and all(b.strip() for b in block):
            try:
                values = np.loadtxt(block, delimiter=delimiter, dtype=np.float64, comments=None, ndmin=2)
            except ValueError:
                values = None
            if values is not None and values.shape == (len(block), len(kinds)) and np.isfinite(values).all():
                yield values, None, np.arange(first, line + 1)
                continue
        reader = csv.reader(block, delimiter=delimiter, skipinitialspace=True)
        rows, numbers = [], []
        for row in reader:
            rows.append(row)
            numbers.append(first + reader.line_num - 1)
        yield None, rows, numbers


def _record_blocks(reader):
    """Rows and their row numbers per CHUNK_ROWS records, from the csv module alone (a file
    with quotes, where a field may hold a line break)."""
    rows, numbers = [], []
    for row in reader:
        rows.append(row)
        numbers.append(reader.line_num)
        if len(rows) == CHUNK_ROWS:
            yield None, rows, numbers
            rows, numbers = [], []
    if rows:
        yield None, rows, numbers


def _read_rows(path: Path, max_values: int = MAX_VALUES) -> _Raw:
    delimiter, quoted = _check_text(path)
    number_chunks, string_chunks, line_chunks = [], [], []
    dropped, first_missing, n_kept, last = 0, None, 0, 1
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            if quoted:
                reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
                header = _header(path, next(reader, None))
                kinds: list[str | None] = [None] * len(header)
                blocks = _record_blocks(reader)
            else:
                header = _header(path, next(csv.reader([f.readline()], delimiter=delimiter,
                                                       skipinitialspace=True), None))
                kinds = [None] * len(header)
                blocks = _line_blocks(f, delimiter, kinds)
            n_cols = len(header)
            for values, rows, numbers in blocks:
                last = numbers[-1] if len(numbers) else last
                if values is not None:
                    if (n_kept + dropped + len(values)) * n_cols > max_values:
                        raise DataError(f"{path}: row {numbers[0]}: more than {max_values:,} values; "
                                        f"bpviz reads CSV files up to that size")
                    number_chunks.append(_compact(values))
                    string_chunks.append(np.empty((len(values), 0), dtype=str))
                    line_chunks.append(np.asarray(numbers))
                    n_kept += len(values)
                    continue
                chunk, lines = [], []
                for row, number in zip(rows, numbers):
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    if len(row) != n_cols:
                        from bpviz.engine.explain import counted
                        raise DataError(f"{path}: row {number} has {counted(len(row), 'value')} but the header "
                                        f"has {counted(n_cols, 'column')}")
                    if (n_kept + dropped + len(chunk) + 1) * n_cols > max_values:
                        raise DataError(f"{path}: row {number}: more than {max_values:,} values; "
                                        f"bpviz reads CSV files up to that size")
                    chunk.append(row)
                    lines.append(number)
                if chunk:
                    kept, first = _convert(path, header, kinds, chunk, lines, number_chunks, string_chunks,
                                           line_chunks)
                    if kept < len(chunk) and first_missing is None:
                        first_missing = first
                    dropped += len(chunk) - kept
                    n_kept += kept
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text (after row {last}); save it as CSV UTF-8") from None
    except csv.Error as e:
        raise DataError(f"{path}: after row {last}: {e}") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if n_kept + dropped == 0:
        raise DataError(f"{path}: no data rows after the header")
    if n_kept == 0:
        row, col = first_missing
        raise DataError(f"{path}: every row has a missing value (the first at row {row}, column {col!r})")
    kinds = [k or "num" for k in kinds]
    n_num = sum(k == "num" for k in kinds)
    numbers = np.concatenate(number_chunks) if number_chunks else np.empty((0, n_num))
    strings = np.concatenate(string_chunks) if string_chunks else np.empty((0, n_cols - n_num), dtype=str)
    return _Raw(path, header, kinds, numbers, strings, np.concatenate(line_chunks), dropped, first_missing)


def _convert(path, header, kinds, chunk, lines, number_chunks, string_chunks, line_chunks):
    """Append the chunk's complete rows to the blocks; (rows kept, (row, column) of its first
    missing value). Decides each column's kind at its first complete row."""
    if all(k == "num" for k in kinds):
        try:
            values = np.array(chunk, dtype=np.float64)  # (k, cols): the common all-numeric file, fast
        except ValueError:
            values = None
        if values is not None:
            bad = np.isnan(values).any(axis=1)  # (k,): "NaN" parsed as a number is a missing value
            _check_finite(path, header, values[~bad], np.asarray(lines)[~bad], list(range(len(header))))
            number_chunks.append(_compact(values[~bad]))
            string_chunks.append(np.empty((int((~bad).sum()), 0), dtype=str))
            line_chunks.append(np.asarray(lines)[~bad])
            first = None
            if bad.any():
                i = int(np.argmax(bad))
                first = (lines[i], header[int(np.argmax(np.isnan(values[i])))])
            return int((~bad).sum()), first
    cells = np.char.strip(np.array(chunk, dtype=str))  # (k, cols)
    missing = np.isin(cells, MISSING)  # (k, cols)
    incomplete = missing.any(axis=1)  # (k,)
    first = None
    if incomplete.any():
        i = int(np.argmax(incomplete))
        first = (lines[i], header[int(np.argmax(missing[i]))])
    cells = cells[~incomplete]  # (kept, cols)
    kept_lines = np.asarray(lines)[~incomplete]
    if len(cells) == 0:
        return 0, first
    numeric = {}
    for j, name in enumerate(header):
        if kinds[j] == "str":
            continue
        try:
            numeric[j] = cells[:, j].astype(np.float64)  # (kept,)
        except ValueError:
            if kinds[j] == "num":  # numbers in an earlier chunk: a stray word is an error, not a category
                i = next(i for i, v in enumerate(cells[:, j]) if not _looks_numeric(v))
                raise DataError(f"{path}: row {kept_lines[i]}, column {name!r}: {str(cells[i, j])!r} is not a "
                                f"number, but the rows above hold numbers in this column") from None
            numbers = [_looks_numeric(v) for v in cells[:, j]]
            if sum(numbers) * 2 > len(numbers):  # mostly numbers, as in a bigger file's first chunk: a typo
                i = numbers.index(False)
                raise DataError(f"{path}: row {kept_lines[i]}, column {name!r}: {str(cells[i, j])!r} is not a "
                                f"number, but {sum(numbers)} of the column's first {len(numbers)} values "
                                f"are") from None
            kinds[j] = "str"
        else:
            kinds[j] = "num"
    num_cols = [j for j in range(len(header)) if kinds[j] == "num"]
    values = np.stack([numeric[j] for j in num_cols], axis=1) if num_cols else np.empty((len(cells), 0))
    _check_finite(path, header, values, kept_lines, num_cols)
    number_chunks.append(_compact(values))
    string_chunks.append(cells[:, [j for j in range(len(header)) if kinds[j] == "str"]])
    line_chunks.append(kept_lines)
    return len(cells), first


def _compact(values: np.ndarray) -> np.ndarray:
    """uint8 when every value is a whole number 0-255 (pixels: an eighth of the memory),
    else the float64 values; np.concatenate turns a mix back into float64."""
    if values.size and values.min() >= 0 and values.max() <= 255 and np.array_equal(values, np.floor(values)):
        return values.astype(np.uint8)
    return values


def _check_finite(path, header, values, lines, cols) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        i, k = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(f"{path}: row {lines[i]}, column {header[cols[k]]!r}: {values[i, k]} is not a finite number")


def _label_column(raw: _Raw, wanted: str | None) -> str:
    if wanted is not None:
        if wanted in raw.header:
            return wanted
        raise DataError(f"{raw.path}: no column named {wanted!r} for --label-column "
                        f"(the columns are {_names(raw.header)})")
    lower = {h.lower(): h for h in raw.header}
    for name in LABEL_NAMES:
        if name in lower:
            return lower[name]
    raise DataError(f"{raw.path}: no label column: none is called {', '.join(LABEL_NAMES)}; name it with "
                    f"--label-column (the columns are {_names(raw.header)})")


def _names(header: list[str]) -> str:
    shown = ", ".join(header[:8])
    return shown + (f" and {len(header) - 8} more" if len(header) > 8 else "")


def _number_name(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _classes(raw: _Raw, label: str) -> tuple[str, ...] | None:
    """Class names in index order, or None for a regression target."""
    values = raw.column(label)
    if raw.kinds[raw.header.index(label)] == "str":
        names = tuple(sorted(set(values.tolist())))
    else:
        distinct = np.unique(values)
        if len(distinct) > MAX_NUMERIC_CLASSES or not np.all(distinct == np.round(distinct)):
            return None
        names = tuple(_number_name(v) for v in distinct)
    if len(names) < 2:
        raise DataError(f"{raw.path}: column {label!r}: every row has the label {names[0]!r}; "
                        f"a classifier needs at least 2 classes")
    return names


def _class_indices(raw: _Raw, label: str, names: tuple[str, ...], train_path: Path) -> np.ndarray:
    values = raw.column(label)
    if raw.kinds[raw.header.index(label)] == "num":
        values = np.array([_number_name(v) for v in values]) if len(values) else values.astype(str)
    lookup = {n: i for i, n in enumerate(names)}
    out = np.empty(len(values), dtype=np.int64)  # (n,)
    for i, v in enumerate(values.tolist()):
        k = lookup.get(v)
        if k is None:
            raise DataError(f"{raw.path}: row {raw.lines[i]}, column {label!r}: the class {v!r} does not "
                            f"occur in the training file {train_path}")
        out[i] = k
    return out


def _image_shape(raw: _Raw, label: str, features: list[str]) -> tuple[int, int] | None:
    """(28, 28) for Kaggle's MNIST CSV layout (or another square of columns named like
    pixels); None for any other table."""
    side = math.isqrt(len(features))
    if raw.header[0] != label or side * side != len(features) or side < 8:
        return None
    if len(features) != 784 and not all(_PIXEL_NAME.match(f) for f in features):
        return None
    if any(raw.kinds[raw.header.index(f)] != "num" for f in features):
        return None
    if raw.numbers.dtype != np.uint8:  # some number is not a whole 0-255 (see _compact)
        return None
    return side, side


def _split(n: int, targets: np.ndarray, classes: bool, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows): a seeded hold-out, the same share of every class."""
    rng = np.random.default_rng(seed)
    if not classes:
        order = rng.permutation(n)
        n_test = int(n * fraction)
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    test = []
    for k in np.unique(targets):
        rows = rng.permutation(np.flatnonzero(targets == k))
        test.append(rows[: int(len(rows) * fraction)])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(n), test), test


def _file_digest(paths: list[Path]) -> hashlib._Hash:
    h = hashlib.sha256()
    for p in paths:
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h


def load_csv(path: str | os.PathLike, *, label_column: str | None = None, test_path: str | os.PathLike | None = None,
             test_fraction: float = 0.2, standardize: bool = True, seed: int = 0,
             max_values: int = MAX_VALUES) -> TableData:
    """The CSV file `path` as a data set (see the module docstring); DataError with one line."""
    path = Path(path)
    if not 0 <= test_fraction < 1:
        raise DataError(f"the test fraction must be at least 0 and below 1 (got {test_fraction:g})")
    raw = _read_rows(path, max_values)
    label = _label_column(raw, label_column)
    features = [h for h in raw.header if h != label]
    if not features:
        raise DataError(f"{path}: no feature columns besides the label {label!r}")
    class_names = _classes(raw, label)
    target = (_class_indices(raw, label, class_names, path) if class_names is not None
              else raw.column(label).astype(np.float64))  # (n,)
    test_raw = None
    if test_path is not None:
        test_raw = _read_rows(Path(test_path), max_values)
        missing = [h for h in raw.header if h not in test_raw.header]
        extra = [h for h in test_raw.header if h not in raw.header]
        if missing or extra:
            what = f"lacks {_names(missing)}" if missing else f"has columns {_names(extra)} that {path} has not"
            raise DataError(f"{test_path}: the test file {what}")
        for h in raw.header:
            if raw.kinds[raw.header.index(h)] == "num" and test_raw.kinds[test_raw.header.index(h)] == "str":
                raise DataError(f"{test_path}: column {h!r} holds words where the training file {path} "
                                f"holds numbers")
    notes = []
    for r in (raw, test_raw):
        if r is not None and r.dropped:
            row, col = r.first_missing
            notes.append(f"{r.path}: dropped {r.dropped} of {r.dropped + len(r.lines)} rows with a missing "
                         f"value (the first at row {row}, column {col!r})")

    image_shape = _image_shape(raw, label, features) if class_names is not None else None
    if image_shape is not None:
        x = raw.numbers[:, [raw.header.index(f) for f in features]].astype(np.uint8)  # (n, 784) uint8
        test_x = None
        if test_raw is not None:
            tx = test_raw.numbers[:, [test_raw.header.index(f) for f in features]]  # (m, 784)
            if tx.size and (tx.min() < 0 or tx.max() > 255):
                raise DataError(f"{test_path}: pixel values outside 0-255 where the training file holds images")
            test_x = tx.astype(np.uint8)
        feature_names = tuple(features)
    else:
        x, feature_names, encode = _encode_features(raw, features)
        test_x = encode(test_raw) if test_raw is not None else None
    test_target = None
    if test_raw is not None:
        test_target = (_class_indices(test_raw, label, class_names, path) if class_names is not None
                       else test_raw.column(label).astype(np.float64))
    elif test_fraction > 0:
        train_rows, test_rows = _split(len(x), target, class_names is not None, test_fraction, seed)
        if len(test_rows):
            x, test_x = x[train_rows], x[test_rows]
            target, test_target = target[train_rows], target[test_rows]
            if class_names is not None and len(np.unique(target)) < 2:
                raise DataError(f"{path}: after holding out {test_fraction:g} of the rows for testing, "
                                f"the training rows hold one class only")

    t_mean, t_std = 0.0, 1.0
    n_numeric = sum(1 for f in features if raw.kinds[raw.header.index(f)] == "num")
    if standardize and image_shape is None and n_numeric:
        mean = x[:, :n_numeric].mean(axis=0)  # (numeric features,)
        std = x[:, :n_numeric].std(axis=0)
        std[std == 0] = 1.0  # a constant column stays 0 instead of dividing by zero
        x = x.copy()
        x[:, :n_numeric] = (x[:, :n_numeric] - mean) / std
        if test_x is not None:
            test_x = test_x.copy()
            test_x[:, :n_numeric] = (test_x[:, :n_numeric] - mean) / std
    if standardize and class_names is None:
        t_mean, t_std = float(target.mean()), float(target.std()) or 1.0
        target = (target - t_mean) / t_std
        if test_target is not None:
            test_target = (test_target - t_mean) / t_std

    h = _file_digest([path] + ([Path(test_path)] if test_path is not None else []))
    h.update(f"label={label} test_fraction={test_fraction} standardize={standardize} seed={seed}".encode())
    return TableData(path, Path(test_path) if test_path is not None else None, label, feature_names, class_names,
                     x, target, test_x, test_target, image_shape, 1 / 255 if image_shape else None,
                     t_mean, t_std, tuple(notes), h.hexdigest())


def _encode_features(raw: _Raw, features: list[str]):
    """(x (n, inputs) float64 with the numeric columns first, their names, a function that
    encodes another file's rows the same way)."""
    numeric = [f for f in features if raw.kinds[raw.header.index(f)] == "num"]
    words = [f for f in features if raw.kinds[raw.header.index(f)] == "str"]
    categories = {f: sorted(set(raw.column(f).tolist())) for f in words}
    names = tuple(numeric) + tuple(f"{f}={v}" for f in words for v in categories[f])

    def encode(r: _Raw) -> np.ndarray:
        parts = [np.stack([r.column(f).astype(np.float64) for f in numeric], axis=1)] if numeric else []
        for f in words:
            col = r.column(f).astype(str)  # (n,)
            parts.append((col[:, None] == np.array(categories[f])[None, :]).astype(np.float64))  # (n, values)
        return np.concatenate(parts, axis=1) if parts else np.empty((len(r.lines), 0))

    return encode(raw), names, encode
