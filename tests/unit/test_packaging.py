"""A wheel carries every package: each folder of src/tdm_desktop with an ``__init__.py`` is listed
in pyproject.toml's ``[tool.setuptools] packages`` (an editable install would hide a missing one)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    src = ROOT / "src"
    found = {
        ".".join(init.parent.relative_to(src).parts)
        for init in src.rglob("tdm_desktop/**/__init__.py")
    } | {"tdm_desktop"}
    assert found - listed == set()
