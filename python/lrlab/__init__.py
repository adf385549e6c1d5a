"""Read lrlab results folders in Python: runs, curves, summary, fits and tensors.

Pure Python on numpy (pandas optional): importable without building lrlab.

    import lrlab
    study = lrlab.load("runs/quickstart")
    study.runs          # one row per run, swept values as columns (a whole-section sweep flattened)
    study.curves        # long form: run, step, metric, value
    study.curves_wide   # one row per (run, step), one column per metric, plus the swept values
    study.summary, study.fits
    lrlab.read_safetensors("runs/quickstart/tensors/p000_s00.safetensors")  # {name: numpy array}
"""

from .flow_yaml import parse_flow
from .results import Study, Table, load
from .safetensors import read_safetensors, read_safetensors_metadata

__all__ = ["Study", "Table", "load", "parse_flow", "read_safetensors", "read_safetensors_metadata"]
