"""Fixtures of the unit tier."""

from __future__ import annotations

import pytest

from tdm_desktop.cli import main


@pytest.fixture
def run(data_dir, s3_client, capsys):
    """Run the CLI in-process against moto; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
