"""The prediction summary's quantile sketch, read side: pure Python, shared by the container
(`job.summary`, which fills it) and the submitter (`submitter.drift`, which compares two).

A relative-error log-bucket sketch (the DDSketch idea): bucket "+i" holds positive values in
(gamma^(i-1), gamma^i], "-i" the negatives by magnitude, "0" the zeros. Its buckets are addressed by
the value alone, so sketches merge by adding counts, and every value read back is within
`RELATIVE_ERROR` of a value that was counted.
"""

from __future__ import annotations

import math
from typing import Any

RELATIVE_ERROR = 0.02
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
LOG_GAMMA = math.log(GAMMA)
QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


def bucket_value(key: str) -> float:
    """The value a bucket stands for: the point within `RELATIVE_ERROR` of its whole range."""
    if key == "0":
        return 0.0
    sign = -1.0 if key[0] == "-" else 1.0
    return sign * 2 * GAMMA ** int(key[1:]) / (GAMMA + 1)


def sorted_buckets(summary: dict[str, Any]) -> list[tuple[float, int]]:
    """(value, count) for every bucket of a summary's sketch, in increasing value."""
    return sorted((bucket_value(k), int(n)) for k, n in summary["sketch"].items())


def quantiles(summary: dict[str, Any]) -> dict[str, float]:
    """`QUANTILES` of a `values` summary (`p50`...), read from its sketch; empty without values."""
    buckets = sorted_buckets(summary)
    total = sum(n for _, n in buckets)
    if not total:
        return {}
    answers: dict[str, float] = {}
    for q in QUANTILES:
        rank, seen = q * (total - 1), 0
        for value, count in buckets:
            seen += count
            if seen > rank:
                answers[f"p{round(q * 100)}"] = round(value, 6)
                break
    return answers
