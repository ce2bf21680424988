"""Take the docs' screenshots of the real app, the way a person sees it.

Runs ``tdm-desktop demo`` (the bundled local S3 with demo actors, in a throwaway home) on a
virtual X screen, drives it with real key presses (xdotool) and captures the screen (ImageMagick's
``import``). Needs: ``apt-get install xvfb xdotool imagemagick openbox`` plus Qt's xcb libraries
(README). Run: ``.venv/bin/python docs/screenshots/take_screenshots.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
DISPLAY = os.environ.get("SHOTS_DISPLAY", ":97")
PORT = os.environ.get("SHOTS_PORT", "18433")


def sh(*args: str, env=None, check=True) -> str:
    return subprocess.run(args, capture_output=True, text=True, env=env, check=check).stdout


def key(*names: str, pause: float = 0.25) -> None:
    for name in names:
        sh("xdotool", "key", "--clearmodifiers", name, env={**os.environ, "DISPLAY": DISPLAY})
        time.sleep(pause)


def shot(name: str, settle: float = 1.0) -> None:
    time.sleep(settle)
    path = HERE / f"{name}.png"
    sh("import", "-display", DISPLAY, "-window", "root", str(path))
    print("saved", path)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> int:
    for tool in ("Xvfb", "xdotool", "import"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install xvfb xdotool imagemagick")
    home = Path(tempfile.mkdtemp(prefix="tdm-shots-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_", "QT_"))},
        "DISPLAY": DISPLAY,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    procs = [xvfb]
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
            180,
            "the window",
        )[0]
        sh("xdotool", "windowsize", window, "1400", "900", env=env)
        sh("xdotool", "windowmove", window, "0", "0", env=env)
        time.sleep(4)  # thumbnails arrive
        shot("grid")

        # Flag three images bad from the keyboard, then select them with Shift+Left.
        key("Right", "b", "b", "b", "shift+Left", "shift+Left", "Left")
        key("shift+Right", "shift+Right")
        shot("bad_selection")

        key("space")
        shot("preview", settle=2.0)
        key("Escape")

        # Another actor, before it is opened: one object deleted from S3 behind the app's back
        # and one URL pointing into another bucket. Opening it shows both as error tiles.
        text = (home / "demo.log").read_text()
        exports = dict(re.findall(r"(AWS_[A-Z_0-9]+)=(\S+)", text))
        data_dir = Path(re.search(r"Demo data dir: (\S+)", text).group(1))
        actor = "0388_latina_35_female"
        prefix = f"system_actors/training_data/{actor}/{actor}"
        sh(
            sys.executable,
            "-c",
            "import boto3; boto3.client('s3').delete_object("
            f"Bucket='story-boards-assets', Key='{prefix}_2.jpg')",
            env={**env, **exports},
        )
        manifest = data_dir / "actor_manifests" / "0388_manifest.json"
        manifest.write_text(
            manifest.read_text().replace(
                f"https://story-boards-assets.s3.amazonaws.com/{prefix}_5.jpg",
                f"https://someone-else.s3.amazonaws.com/{prefix}_5.jpg",
            )
        )
        key("F5")
        time.sleep(1)
        sh("xdotool", "mousemove", "147", "143", "click", "1", env=env)  # the 0388 row
        shot("error_tiles", settle=4.0)
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
    from review_shots import main as review_shots  # the review's screenshots, on a fresh demo

    raise SystemExit(main() or review_shots())
