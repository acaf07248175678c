"""Claims: a paper's statement, the paper's figure, our measured value and pass/fail.

Every eval binary builds a list of :class:`Claim` from quantities measured in the run (or a
closed form) and calls :func:`write_eval`, which writes ``<workdir>/eval.json`` and prints the table.
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from common import distributed


@dataclasses.dataclass
class Claim:
    name: str
    statement: str
    paper_value: str
    ours: str
    passed: bool

    def __post_init__(self):
        self.passed = bool(self.passed)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x).tolist()
    if hasattr(x, "__array__"):
        return np.asarray(x).tolist()
    return x


def format_table(claims: list[Claim]) -> str:
    """A Markdown table of the claims, the same one each paper's README shows."""
    rows = ["| claim | paper | ours | pass |", "|---|---|---|---|"]
    for c in claims:
        rows.append(f"| {c.name}: {c.statement} | {c.paper_value} | {c.ours} | {'PASS' if c.passed else 'FAIL'} |")
    n_pass = sum(c.passed for c in claims)
    rows.append(f"\n{n_pass}/{len(claims)} claims pass")
    return "\n".join(rows)


def write_eval(workdir: str, metrics: dict, claims: list[Claim], figures: list[str] = ()) -> dict:
    """Writes ``<workdir>/eval.json`` ({metrics, claims, figures}), prints the table, returns the record."""
    record = {
        "metrics": _jsonable(metrics),
        "claims": [dataclasses.asdict(c) for c in claims],
        "figures": [os.path.basename(f) for f in figures],
        "all_passed": all(c.passed for c in claims),
    }
    if distributed.is_chief():
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "eval.json"), "w") as f:
            json.dump(record, f, indent=2)
        print(format_table(claims))
    return record


def read_eval(workdir: str) -> dict:
    path = os.path.join(workdir, "eval.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: run the paper's eval binary on this workdir first")
    with open(path) as f:
        return json.load(f)
