"""Every paper imports, every config variant parses strictly, and no paper imports another."""
import ast
import importlib
import os

import ml_collections
import pytest

from common import config as config_lib
from tests.helpers import ROOT, papers

PAPERS = papers()


def _config_module(slug):
    return importlib.import_module(f"papers.{slug}.configs.default")


@pytest.mark.parametrize("slug", PAPERS)
def test_paper_imports(slug):
    importlib.import_module(f"papers.{slug}")
    for binary in ("train", "eval"):
        module = importlib.import_module(f"papers.{slug}.{binary}")
        assert "binary.main" in open(module.__file__).read(), f"{slug}/{binary}.py is not a thin binary"


@pytest.mark.parametrize("slug", PAPERS)
@pytest.mark.parametrize("variant", config_lib.VARIANTS)
def test_config_variant_parses(slug, variant):
    cfg = _config_module(slug).get_config(variant)
    assert isinstance(cfg, ml_collections.ConfigDict) and cfg.variant == variant
    assert "seed" in cfg
    with pytest.raises(AttributeError):
        cfg.an_unknown_key = 1  # locked


@pytest.mark.parametrize("slug", PAPERS)
def test_config_rejects_unknown_variant_and_key(slug):
    get_config = _config_module(slug).get_config
    with pytest.raises(config_lib.ConfigError, match="valid variants"):
        get_config("hueg")
    with pytest.raises(config_lib.ConfigError, match="unknown config key"):
        get_config("smoke,no_such_key=1")


def _imports(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "papers" and node.level == 0:
            yield from (f"papers.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            yield "<relative import beyond the paper>"


def _py_files(directory):
    for dirpath, _, files in os.walk(directory):
        yield from (os.path.join(dirpath, f) for f in files if f.endswith(".py"))


@pytest.mark.parametrize("slug", PAPERS)
def test_paper_imports_only_common_and_itself(slug):
    bad = []
    for path in _py_files(os.path.join(ROOT, "papers", slug)):
        for mod in _imports(path):
            parts = mod.split(".")
            if (parts[0] == "papers" and parts[1:2] != [slug]) or parts[0] in ("launch", "tests") or mod.startswith("<"):
                bad.append(f"{os.path.relpath(path, ROOT)}: {mod}")
    assert not bad, bad


def test_common_imports_no_paper():
    bad = [f"{p}: {m}" for p in _py_files(os.path.join(ROOT, "common")) for m in _imports(p)
           if m.split(".")[0] in ("papers", "launch", "tests")]
    assert not bad, bad


@pytest.mark.parametrize("slug", PAPERS)
def test_paper_has_readme_claims_and_tests(slug):
    base = os.path.join(ROOT, "papers", slug)
    readme = open(os.path.join(base, "README.md")).read()
    assert "## Claims" in readme and "| claim" in readme.lower()
    assert any(f.endswith("_test.py") for _, _, fs in os.walk(base) for f in fs)
