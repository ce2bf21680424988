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

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from take_screenshots import end_demo, key, open_demo, shot, start_screen


def show(letter: str) -> None:
    """View → Show → the filter whose mnemonic is ``letter`` (the keyboard's way)."""
    key("alt+v", pause=1.2)  # the menu must be up before its letters come
    key("s", pause=1.2)
    key(letter, pause=1.0)


def review_shots() -> None:
    home = Path(tempfile.mkdtemp(prefix="tdm-review-shots-"))
    env, procs = start_screen(home, "1400x900")
    env["TDM_CURATOR"] = "alice"
    demo = None
    try:
        demo = open_demo(home, env, procs)
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
    finally:
        end_demo(demo, procs, home)


if __name__ == "__main__":
    review_shots()
