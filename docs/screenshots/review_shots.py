"""The review's screenshots, from the real demo on a virtual screen (``take_screenshots.py`` runs
them after its own; ``.venv/bin/python docs/screenshots/review_shots.py`` runs only these).

- ``problems.png``: the Problems filter on 0042, the pointer on the blurred image's "!" mark (its
  tooltip says which check and the value);
- ``near_duplicates.png``: the Near-duplicates filter, group by group, each tile "≈ 2";
- ``compare.png``: C on a near-duplicate: the pair side by side, the second one marked bad from
  the focused pane;
- ``base_image.png``: the preview of an image with a curator's caption, C showing the actor's
  base image beside it.

The tiles' places are those of a fresh window of 1400×900 at the screen's top left (the layout
the demo opens with on a new home).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from take_screenshots import DISPLAY, PORT, key, sh, shot, wait_for

SHOW_COMBO = (820, 110)  # the toolbar's "Show" filter
FIRST_TILE = (335, 235)  # the middle of the grid's first thumbnail
TILE_STEP = 153  # from one tile to the next, left to right
PROBLEM_MARK = (285, 292)  # the first tile's "!" (its bottom-left corner)


def choose_filter(env: dict[str, str], first_letter: str) -> None:
    """Open the Show filter and pick the entry starting with ``first_letter``."""
    sh("xdotool", "mousemove", *map(str, SHOW_COMBO), "click", "1", env=env)
    time.sleep(0.7)
    key(first_letter, "Return", pause=0.6)


def click(env: dict[str, str], x: int, y: int) -> None:
    sh("xdotool", "mousemove", str(x), str(y), "click", "1", env=env)
    time.sleep(0.4)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="tdm-review-shots-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_", "QT_"))},
        "DISPLAY": DISPLAY,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    procs = [subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])]
    try:
        time.sleep(1)
        if shutil.which("openbox"):
            procs.append(subprocess.Popen(["openbox"], env=env, stderr=subprocess.DEVNULL))
        tdm = Path(sys.executable).with_name("tdm-desktop")
        log = open(home / "demo.log", "w")  # noqa: SIM115
        demo = subprocess.Popen(
            [str(tdm), "demo", "--port", PORT], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        procs.append(demo)
        window = wait_for(
            lambda: sh(
                "xdotool", "search", "--name", "Training Data Manager", env=env, check=False
            ).split(),
            240,
            "the window",
        )[0]
        sh("xdotool", "windowsize", window, "1400", "900", env=env)
        sh("xdotool", "windowmove", window, "0", "0", env=env)
        time.sleep(6)  # thumbnails arrive, then their analysis

        choose_filter(env, "P")  # Problems: the blurred image and the too small one
        sh("xdotool", "mousemove", *map(str, PROBLEM_MARK), "sleep", "0.3", env=env)
        sh("xdotool", "mousemove", str(PROBLEM_MARK[0] + 1), str(PROBLEM_MARK[1] + 1), env=env)
        shot("problems", settle=2.0)

        choose_filter(env, "N")  # Near-duplicates, group by group
        sh("xdotool", "mousemove", "700", "700", env=env)
        shot("near_duplicates", settle=1.0)

        click(env, FIRST_TILE[0] + 2 * TILE_STEP, FIRST_TILE[1])  # the second group's first image
        key("c", pause=2.0)  # its group side by side
        key("Right", "b")  # the focused (second) pane bad
        sh("xdotool", "mousemove", "700", "880", env=env)
        shot("compare", settle=1.5)
        key("Escape")

        choose_filter(env, "A")  # All again
        click(env, FIRST_TILE[0] + TILE_STEP, FIRST_TILE[1])  # _1: a curator's caption
        key("space", pause=2.0)
        key("c")  # the base image beside it
        shot("base_image", settle=2.5)
        key("Escape")
        key("ctrl+q")
        demo.wait(timeout=60)
        print("demo exited with", demo.returncode)
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
