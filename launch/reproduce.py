"""Train + evaluate one paper (or all) and print its claims table.

    python -m launch.reproduce hopfield_layers --config small --workdir runs/hopfield_small
    python -m launch.reproduce --all --config smoke --workdir runs/smoke_all [--update-readme]

Writes ``<workdir>/reproduce.json`` (claims, runtimes) and exits non-zero if a step fails or a
claim does not hold. ``--all`` writes ``<workdir>/status.md``, the table the top README shows.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README_BEGIN, README_END = "<!-- status:begin -->", "<!-- status:end -->"


def list_papers() -> list[str]:
    papers = os.path.join(ROOT, "papers")
    return sorted(d for d in os.listdir(papers)
                  if os.path.isfile(os.path.join(papers, d, "configs", "default.py")))


def paper_title(slug: str) -> str:
    path = os.path.join(ROOT, "papers", slug, "README.md")
    with open(path) as f:
        first = f.readline().lstrip("# ").strip()
    return first.split(" — ")[0].split(" -- ")[0]


def run_binary(slug: str, binary: str, config: str, workdir: str, timeout: float | None) -> float:
    """Runs ``python -m papers.<slug>.<binary>``; returns seconds. Raises CalledProcessError on failure."""
    cmd = [sys.executable, "-m", f"papers.{slug}.{binary}",
           f"--config=papers/{slug}/configs/default.py:{config}", f"--workdir={workdir}"]
    print(f"$ {' '.join(cmd[2:])}", flush=True)
    t0 = time.time()
    subprocess.run(cmd, cwd=ROOT, check=True, timeout=timeout)
    return time.time() - t0


def reproduce(slug: str, config: str, workdir: str, timeout: float | None = None) -> dict:
    """Trains and evaluates one paper; returns the reproduce.json record."""
    if slug not in list_papers():
        raise SystemExit(f"unknown paper {slug!r}; papers: {', '.join(list_papers())}")
    workdir = os.path.abspath(workdir)
    record = {"paper": slug, "config": config, "workdir": workdir, "claims": [], "error": None,
              "resumed": _has_run(workdir)}
    try:
        record["train_seconds"] = round(run_binary(slug, "train", config, workdir, timeout), 1)
        record["eval_seconds"] = round(run_binary(slug, "eval", config, workdir, timeout), 1)
        with open(os.path.join(workdir, "eval.json")) as f:
            record["claims"] = json.load(f)["claims"]
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as e:
        record["error"] = str(e)
    record["all_passed"] = record["error"] is None and all(c["passed"] for c in record["claims"])
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "reproduce.json"), "w") as f:
        json.dump(record, f, indent=2)
    return record


def _has_run(workdir: str) -> bool:
    """True when ``workdir`` already holds (part of) a run, which the binaries resume instead of redoing."""
    return any(os.path.exists(os.path.join(workdir, name)) for name in ("checkpoints", "eval.json", "results"))


def print_summary(record: dict) -> None:
    print(f"\n== {record['paper']} ({record['config']})")
    if record["error"]:
        print(f"FAILED: {record['error']}")
    print("| claim | paper | ours | pass |\n|---|---|---|---|")
    for c in record["claims"]:
        print(f"| {c['name']} | {c['paper_value']} | {c['ours']} | {'PASS' if c['passed'] else 'FAIL'} |")
    wd = record["workdir"]
    print(f"\nworkdir: {wd}\n  metrics: {wd}/metrics.jsonl  eval: {wd}/eval.json  checkpoints: {wd}/checkpoints"
          f"\n  figures: {', '.join(sorted(f for f in os.listdir(wd) if f.endswith('.png'))) if os.path.isdir(wd) else '-'}")
    if "train_seconds" in record:
        print(f"  train {record['train_seconds']} s, eval {record.get('eval_seconds', '-')} s")


def status_table(records: list[dict]) -> str:
    rows = ["| paper | title | smoke | claims (smoke) | smoke runtime |", "|---|---|---|---|---|"]
    for r in records:
        n = len(r["claims"])
        ok = sum(c["passed"] for c in r["claims"])
        state = "runs" if r["error"] is None else "error"
        secs = r.get("train_seconds", 0) + r.get("eval_seconds", 0)
        resumed = " (resumed an earlier run)" if r.get("resumed") else ""
        rows.append(f"| [{r['paper']}](papers/{r['paper']}) | {paper_title(r['paper'])} | {state} | "
                    f"{ok}/{n} | {secs:.0f} s{resumed} |")
    return "\n".join(rows)


def update_readme(table: str) -> None:
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text:
        raise SystemExit(f"README.md lacks the markers {README_BEGIN} ... {README_END}")
    new = re.sub(re.escape(README_BEGIN) + ".*?" + re.escape(README_END),
                 lambda _: f"{README_BEGIN}\n{table}\n{README_END}", text, flags=re.S)
    with open(path, "w") as f:
        f.write(new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper", nargs="?", help="paper slug (a folder of papers/)")
    parser.add_argument("--all", action="store_true", help="run every paper")
    parser.add_argument("--config", default="small", choices=["smoke", "small", "paper"])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per binary")
    parser.add_argument("--update-readme", action="store_true", help="with --all: rewrite README's status table")
    args = parser.parse_args(argv)
    if bool(args.all) == bool(args.paper):
        parser.error("name one paper or pass --all")
    if args.update_readme and not args.all:
        parser.error("--update-readme needs --all")
    if args.all:
        base = os.path.abspath(args.workdir or f"runs/all_{args.config}")
        earlier = [s for s in list_papers() if _has_run(os.path.join(base, s))]
        if args.update_readme and earlier:
            parser.error(f"--update-readme records runtimes, but {base} already holds runs of {', '.join(earlier)} "
                         "that would be resumed, not timed: pass a new --workdir")
        records = [reproduce(s, args.config, os.path.join(base, s), args.timeout) for s in list_papers()]
        for r in records:
            print_summary(r)
        table = status_table(records)
        os.makedirs(base, exist_ok=True)
        with open(os.path.join(base, "status.md"), "w") as f:
            f.write(table + "\n")
        print(f"\n{table}\n\nstatus table: {base}/status.md")
        if args.update_readme:
            update_readme(table)
        return 0 if all(r["error"] is None for r in records) else 1
    record = reproduce(args.paper, args.config, args.workdir or f"runs/{args.paper}_{args.config}", args.timeout)
    print_summary(record)
    return 0 if record["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
