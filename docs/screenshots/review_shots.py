"""The review's screenshots, from the real demo on a virtual screen (``take_screenshots.py`` runs
them after its own; ``.venv/bin/python docs/screenshots/review_shots.py`` runs only these).

- ``problems.png``: the Problems filter on 0042 (the blurred and the too small image, each marked
  "!"), the blurred one current: the status bar says which check and the value;
- ``near_duplicates.png``: the Near-duplicates filter, group by group, each tile "≈ 2";
- ``compare.png``: C on a near-duplicate: the pair side by side, the second one marked bad from
  the focused pane;
- ``base_image.png``: the preview of an image with a curator's caption (two lines, with
  ``[trigger]``), C showing the actor's base image beside it.

Driven by the keyboard alone (View → Show for the filters), so it does not depend on where the
window manager puts the window.
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


def show(letter: str) -> None:
    """View → Show → the filter whose mnemonic is ``letter`` (the keyboard's way)."""
    key("alt+v", pause=1.2)  # the menu must be up before its letters come
    key("s", pause=1.2)
    key(letter, pause=1.0)


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
        wait_for(  # the screen must be up before the window manager, or it gives up
            lambda: (
                subprocess.run(
                    ["xdotool", "getdisplaygeometry"], env=env, capture_output=True
                ).returncode
                == 0
            ),
            30,
            "the virtual screen",
        )
        if shutil.which("openbox"):  # without a window manager no window gets the keys
            for _attempt in range(5):
                manager = subprocess.Popen(["openbox"], env=env, stderr=subprocess.DEVNULL)
                time.sleep(1.5)
                if manager.poll() is None:
                    procs.append(manager)
                    break
                print("openbox exited; starting it again")
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

        show("l")  # Prob&lems: the blurred and the too small image (menu letters avoid G, P, B...)
        time.sleep(1.0)
        key("Right", "Left", pause=0.6)  # the blurred one current: the status bar says why
        shot("problems", settle=1.5)

        show("e")  # N&ear-duplicates, group by group
        shot("near_duplicates", settle=1.0)

        key("Right", "Right")  # the second group's first image
        key("c", pause=2.0)  # its group side by side
        key("Right", "b")  # the focused (second) pane bad
        shot("compare", settle=1.5)
        key("Escape")

        show("a")  # All again
        key("Home", "Right", "Right")  # _2: a caption on two lines
        key("space", pause=2.0)
        key("c")  # the base image beside it
        shot("base_image", settle=2.5)
        key("Escape", pause=1.0)  # the preview closes; the main window has the keys again
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
