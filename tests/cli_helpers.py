"""Helpers for tests that run the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def error_lines(err: str) -> list[str]:
    """stderr without the design's [S3-ONLY] progress lines: what remains are the errors."""
    return [line for line in err.splitlines() if not line.startswith("[S3-ONLY]")]


def process_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for ``python -m tdm_desktop`` in its own process: no AWS/TDM setting of
    the user's, fake credentials, this checkout's sources, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_"))}
    env.update(
        PYTHONPATH=str(REPO / "src"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(data_dir / "no-aws-config"),
        **extra,
    )
    return env


def run_process(
    data_dir: Path, *argv: str, timeout: float, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m tdm_desktop --data-dir DATA_DIR ARGV...`` as a real process (a call that blocks
    hangs it, and ``timeout`` says so)."""
    return subprocess.run(
        [sys.executable, "-m", "tdm_desktop", "--data-dir", str(data_dir), *argv],
        env=process_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
