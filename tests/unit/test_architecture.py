"""The layering the project relies on: core/ works without Qt, so the CLI and scripts do too."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import tdm_desktop.core


def test_core_never_imports_qt():
    modules = [m.name for m in pkgutil.iter_modules(tdm_desktop.core.__path__, "tdm_desktop.core.")]
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import tdm_desktop.cli, tdm_desktop.generators\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
