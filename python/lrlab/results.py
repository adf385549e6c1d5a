"""lrlab.load(folder): a results folder as tables (pandas DataFrames when pandas is installed, else
lrlab.Table, a dict of numpy columns)."""

import csv
import math
import os

import numpy as np

from .flow_yaml import flatten, parse_flow
from .safetensors import read_safetensors


class Table:
    """Columns of equal length by name (numpy arrays: float where every cell is a number or empty,
    else object). `table["col"]` is a column, `len(table)` the number of rows."""

    def __init__(self, columns):
        pairs = list(columns)
        self.columns = [name for name, _ in pairs]
        self._data = dict(pairs)

    def __getitem__(self, name):
        return self._data[name]

    def __contains__(self, name):
        return name in self._data

    def __len__(self):
        return len(next(iter(self._data.values()))) if self._data else 0

    def rows(self):
        """Each row as a dict."""
        return [{c: self._data[c][i] for c in self.columns} for i in range(len(self))]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame({c: self._data[c] for c in self.columns})


def _column(values):
    """A numpy column: float (empty -> nan) when every value is a number or empty, else object."""
    numbers = []
    for v in values:
        if v is None or v == "":
            numbers.append(math.nan)
        elif isinstance(v, bool):
            return np.array(values, dtype=object)
        elif isinstance(v, (int, float)):
            numbers.append(float(v))
        else:
            try:
                numbers.append(float(v))
            except ValueError:
                return np.array(values, dtype=object)
    column = np.array(numbers, dtype=float)
    if len(column) and np.all(np.isfinite(column)) and np.all(column == np.round(column)) and np.all(np.abs(column) < 2**53):
        return column.astype(np.int64)  # ids, seeds, steps, dimensions
    return column


def _read_csv(path):
    """(header, rows of strings); a missing file reads as empty."""
    if not os.path.exists(path):
        return [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        return header, [row for row in reader]


def _table(header, rows):
    return Table((name, _column([row[i] for row in rows])) for i, name in enumerate(header))


def _runs_table(header, rows):
    """runs.csv with each swept column (between `point` and `status`) parsed; a whole-section sweep
    ({type: lora, rank: 1}) becomes one column per key (adapter.type, adapter.rank). Returns the
    table and the swept column names."""
    swept_raw = header[header.index("point") + 1 : header.index("status")] if "point" in header and "status" in header else []
    columns, swept = {}, []
    for i, name in enumerate(header):
        if name not in swept_raw:
            columns[name] = [row[i] for row in rows]
            continue
        parsed = [parse_flow(row[i]) for row in rows]
        flat = [flatten(v, name) for v in parsed]
        keys = []
        for f in flat:
            keys += [k for k in f if k not in keys]
        for k in keys:
            columns[k] = [f.get(k) for f in flat]
            swept.append(k)
    ordered = [c for c in header if c in columns and c not in swept_raw]
    position = header.index("point") + 1 if swept else 0
    order = ordered[:position] + swept + ordered[position:]
    return Table((name, _column(columns[name])) for name in order), swept


def _wide(curves, runs, swept):
    """One row per (run, step) with a column per metric (nan where not recorded) and the run's swept values."""
    metrics = sorted(set(curves["metric"])) if len(curves) else []
    index, keys = {}, []
    for run, step, metric, value in zip(curves["run"], curves["step"], curves["metric"], curves["value"]):
        key = (run, step)
        if key not in index:
            index[key] = {}
            keys.append(key)
        index[key][metric] = value
    columns = [("run", np.array([k[0] for k in keys], dtype=object)), ("step", _column([k[1] for k in keys]))]
    columns += [(m, np.array([index[k].get(m, math.nan) for k in keys], dtype=float)) for m in metrics]
    run_row = {r: i for i, r in enumerate(runs["run"])} if "run" in runs else {}
    for s in swept:
        columns.append((s, np.array([runs[s][run_row[k[0]]] if k[0] in run_row else None for k in keys], dtype=runs[s].dtype)))
    return Table(columns)


class Study:
    """A results folder: runs, curves (long and wide), summary and fits, as tables."""

    def __init__(self, path, pandas=None):
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path}: not a results folder")
        self.path = path
        runs, self.swept = _runs_table(*_read_csv(os.path.join(path, "runs.csv")))
        curves = _table(*_read_csv(os.path.join(path, "curves.csv")))
        if len(curves) == 0:
            curves = Table([(c, np.array([], dtype=object)) for c in ("run", "step", "metric", "value")])
        wide = _wide(curves, runs, self.swept)
        summary = _table(*_read_csv(os.path.join(path, "summary.csv")))
        fits = _table(*_read_csv(os.path.join(path, "fits.csv")))
        if pandas is None:
            try:
                import pandas  # noqa: F401

                pandas = True
            except ImportError:
                pandas = False
        convert = (lambda t: t.to_pandas()) if pandas else (lambda t: t)
        self.runs, self.curves, self.curves_wide = convert(runs), convert(curves), convert(wide)
        self.summary, self.fits = convert(summary), convert(fits)

    def config_text(self):
        """config.yaml: the resolved config of the first run with the study section."""
        with open(os.path.join(self.path, "config.yaml")) as f:
            return f.read()

    def tensors(self, run):
        """The saved tensors of `run` (adapter.*, base.W, teacher.W, student.W, ...) as numpy arrays."""
        return read_safetensors(os.path.join(self.path, "tensors", run + ".safetensors"))

    def __repr__(self):
        return f"lrlab.Study({self.path!r}: {len(self.runs)} runs, swept {', '.join(self.swept) or 'nothing'})"


def load(path, pandas=None):
    """Loads a results folder (runs/<name>). pandas: True, False or None (use it when installed)."""
    return Study(path, pandas=pandas)
