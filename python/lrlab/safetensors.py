"""Reads the safetensors format (what lrlab and PEFT write) into numpy arrays, without torch."""

import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


def _header(data, path):
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise ValueError(f"{path}: header length {length} runs past the end of the file")
    return json.loads(data[8 : 8 + length].decode("utf-8")), 8 + length


def read_safetensors(path):
    """{tensor name: numpy array} in file order (little-endian data, shapes as saved)."""
    with open(path, "rb") as f:
        data = f.read()
    header, start = _header(data, path)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data[start + begin : start + end], dtype=dtype)
        out[name] = array.reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return out


def read_safetensors_metadata(path):
    """The file's "__metadata__" map of strings (run id, seed, adapter type and options for lrlab)."""
    with open(path, "rb") as f:
        head = f.read(8)
        (length,) = struct.unpack("<Q", head)
        header = json.loads(f.read(length).decode("utf-8"))
    return dict(header.get("__metadata__", {}))
