"""The house's rooms and the arrows between them (docs/architecture.md): the import contracts
in pyproject.toml hold, and ``hub/`` stays a short list of modules beside its packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIRS = ["generic_csv", "delivery", "economic", "norwegian_invoicing"]


def test_the_import_contracts_hold() -> None:
    """lint-imports checks every contract of ``[tool.importlinter]``: the domain imports no
    front end, front ends call the operations layer, the toolkit and the plugins reach neither
    storage nor the domain, and the fakes do not import each other."""
    linter = Path(sys.executable).parent / "lint-imports"
    if not linter.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    paths = [str(ROOT), *(str(ROOT / "plugins" / d) for d in PLUGIN_DIRS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_hub_has_at_most_sixteen_top_level_modules() -> None:
    """Beside its packages (one per role), ``hub/`` keeps the contract and a few core modules;
    a new module belongs in a room (docs/architecture.md says which)."""
    modules = sorted(p.name for p in (ROOT / "hub").glob("*.py"))
    assert len(modules) <= 16, modules
