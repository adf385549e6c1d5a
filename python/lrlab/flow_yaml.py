"""The one-line YAML that lrlab writes into CSV cells ("{type: lora, rank: 1}", "[1, 2]", "0.5").

A small parser for flow mappings, flow lists and plain or quoted scalars, so that whole-section
sweeps can be flattened without a YAML package.
"""


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~", ""):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _split_top(text):
    """Splits `text` at commas outside brackets, braces and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    tail = text[start:]
    if tail.strip() or parts:
        parts.append(tail)
    return [p for p in parts if p.strip()]


def parse_flow(text):
    """Parses one-line YAML: {k: v, ...} -> dict, [a, b] -> list, else a scalar (int, float, bool,
    None or str)."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        out = {}
        for item in _split_top(text[1:-1]):
            key, _, value = item.partition(":")
            out[_scalar(key)] = parse_flow(value)
        return out
    if text.startswith("[") and text.endswith("]"):
        return [parse_flow(item) for item in _split_top(text[1:-1])]
    return _scalar(text)


def flatten(value, prefix):
    """{a: 1, b: {c: 2}} under prefix p -> {"p.a": 1, "p.b.c": 2}; a non-mapping -> {prefix: value}."""
    if not isinstance(value, dict):
        return {prefix: value}
    out = {}
    for key, item in value.items():
        out.update(flatten(item, prefix + "." + str(key)))
    return out
