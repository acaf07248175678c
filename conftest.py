"""Test-session setup shared by every test directory (tests/, papers/, common/).

XLA compiles each test's small programs once and runs them for milliseconds, so compilation is most
of the suite's time. LLVM's optimisation passes are the slow part of a CPU compile; level 0 halves the
time of the compile-bound end-to-end tests (measured on 2 cores: 109 s -> 53 s for two of them) and
leaves results within floating-point rounding. Set before JAX creates its backend; a level already in
XLA_FLAGS wins. Binaries and benchmarks are not affected: this file is read only by pytest.
"""
import os

_LEVEL = "--xla_backend_optimization_level"
if _LEVEL not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_LEVEL}=0".strip()
