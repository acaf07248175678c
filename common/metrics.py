"""Run records: append-only ``metrics.jsonl``, TensorBoard events (no TensorFlow), a progress line.

Only process 0 writes. A resumed run appends; if a run was killed between a log and its next
checkpoint, a step can appear twice in ``metrics.jsonl`` (readers keep the last one, see
:func:`read_metrics`).
"""
from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from common import distributed


def _scalar(value):
    arr = np.asarray(value)
    return arr.item() if arr.size == 1 else arr.tolist()


class MetricsWriter:
    """Writes scalars to ``<workdir>/metrics.jsonl`` and TensorBoard events under ``<workdir>/tb``."""

    def __init__(self, workdir: str, tensorboard: bool = True):
        self.enabled = distributed.is_chief()
        self.path = os.path.join(workdir, "metrics.jsonl")
        self._tb = None
        if self.enabled:
            os.makedirs(workdir, exist_ok=True)
            if tensorboard:
                from tensorboardX import SummaryWriter
                self._tb = SummaryWriter(os.path.join(workdir, "tb"))

    def write(self, step: int, metrics: dict) -> None:
        if not self.enabled:
            return
        record = {"step": int(step), **{k: _scalar(v) for k, v in metrics.items()}}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_metrics(workdir: str) -> list[dict]:
    """Records of ``metrics.jsonl`` by step (the last record wins for a repeated step)."""
    path = os.path.join(workdir, "metrics.jsonl")
    by_step: dict[int, dict] = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    by_step[rec["step"]] = rec
    return [by_step[s] for s in sorted(by_step)]


def format_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """Logs ``step i/n, steps/s, ETA`` at most every ``interval`` seconds."""

    def __init__(self, total: int, start: int = 0, interval: float = 10.0, name: str = "train"):
        self.total, self.start, self.interval, self.name = total, start, interval, name
        self.t0 = self.last = time.time()

    def update(self, step: int, force: bool = False) -> str | None:
        now = time.time()
        if not force and now - self.last < self.interval:
            return None
        self.last = now
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        line = (f"{self.name}: step {step}/{self.total} ({100.0 * step / max(self.total, 1):.0f}%), "
                f"{rate:.1f} steps/s, ETA {format_duration(eta) if np.isfinite(eta) else '?'}")
        logging.info(line)
        return line
