"""Writes a standalone repository holding one paper and the parts of common/ it imports.

    python -m launch.fork hopfield_layers /path/to/new_repo

The result has papers/<slug>/, common/ (only the modules used, transitively), the pinned
requirements.txt, a Makefile with `make reproduce` / `make test`, pytest.ini, .ci/run and a README.
Its tests pass without this repository. DEST must not exist or be empty (nothing is overwritten).
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COPIED_FILES = ("requirements.txt", "pytest.ini", ".gitignore")


def imported_modules(path: str) -> set[str]:
    """Absolute module names imported by a Python file (including `from common import x`)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module)
            mods.update(f"{node.module}.{a.name}" for a in node.names)
    return mods


def common_closure(paper_dir: str) -> set[str]:
    """The common/ module files (relative paths) the paper needs, following common's own imports."""
    todo = [os.path.join(dp, f) for dp, _, fs in os.walk(paper_dir) for f in fs if f.endswith(".py")]
    needed: set[str] = set()
    while todo:
        for mod in imported_modules(todo.pop()):
            parts = mod.split(".")
            if parts[0] != "common" or len(parts) < 2:
                continue
            rel = os.path.join("common", parts[1] + ".py")
            if rel not in needed and os.path.exists(os.path.join(ROOT, rel)):
                needed.add(rel)
                todo.append(os.path.join(ROOT, rel))
    return needed


def write_text(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def makefile(slug: str) -> str:
    with open(os.path.join(ROOT, "Makefile")) as f:
        text = f.read()
    return text.replace("PAPER ?= hopfield_layers", f"PAPER ?= {slug}")


def readme(slug: str) -> str:
    with open(os.path.join(ROOT, "papers", slug, "README.md")) as f:
        title = f.readline().strip().lstrip("# ")
    return (f"# {slug}: {title}\n\nA standalone copy of `papers/{slug}` with the parts of the shared "
            "library it uses (`common/`).\n\n"
            "    make reproduce            # train + eval the small config, print the claims table\n"
            "    make reproduce CONFIG=smoke|small|paper WORKDIR=runs/x\n"
            "    make test                 # the paper's tests\n\n"
            f"The paper's own documentation: [papers/{slug}/README.md](papers/{slug}/README.md).\n")


def fork(slug: str, dest: str) -> list[str]:
    """Creates the standalone repo at dest; returns the files written."""
    src = os.path.join(ROOT, "papers", slug)
    if not os.path.isdir(src):
        raise SystemExit(f"unknown paper {slug!r}: {src} does not exist")
    dest = os.path.abspath(dest)
    if os.path.exists(dest) and os.listdir(dest):
        raise SystemExit(f"{dest} exists and is not empty; choose a new directory (nothing was written)")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(src, os.path.join(dest, "papers", slug), ignore=ignore)
    write_text(os.path.join(dest, "papers", "__init__.py"), "")
    for rel in sorted(common_closure(src)) + ["common/__init__.py"]:
        os.makedirs(os.path.join(dest, "common"), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(dest, rel))
    for name in COPIED_FILES:
        shutil.copy2(os.path.join(ROOT, name), os.path.join(dest, name))
    shutil.copytree(os.path.join(ROOT, "launch"), os.path.join(dest, "launch"), ignore=ignore)
    os.makedirs(os.path.join(dest, ".ci"), exist_ok=True)
    shutil.copy2(os.path.join(ROOT, ".ci", "run"), os.path.join(dest, ".ci", "run"))
    write_text(os.path.join(dest, "Makefile"), makefile(slug))
    write_text(os.path.join(dest, "README.md"), readme(slug))
    return sorted(os.path.relpath(os.path.join(dp, f), dest) for dp, _, fs in os.walk(dest) for f in fs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper")
    parser.add_argument("dest")
    args = parser.parse_args(argv)
    files = fork(args.paper, args.dest)
    print(f"wrote {len(files)} files to {os.path.abspath(args.dest)}; next: cd there && make test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
