"""Take the docs' screenshots of the real app, the way a person sees it.

Runs ``tdm-desktop demo`` (the bundled local S3 with demo actors, in a throwaway home) on a
virtual X screen, drives it with real key presses (xdotool) and captures the screen (ImageMagick's
``import``). Needs: ``apt-get install xvfb xdotool imagemagick openbox`` plus Qt's xcb libraries
(README). Run: ``.venv/bin/python docs/screenshots/take_screenshots.py`` (``--team`` for only the
two curators' windows, ``--integrity`` for only Check against S3… and Migrate…, ``--review`` for
only the review's (``review_shots.py``); ``SHOTS_DISPLAY`` / ``SHOTS_PORT`` pick the X display and
S3 port).

``two_curators.png``: ``tdm-desktop demo --curators 2``, alice's window on the left flags images
bad from the keyboard; bob's on the right shows them within the check interval, with who did it.

``check_against_s3.png``: Actor → Check against S3… on 0388 (the demo's orphan, and one object
deleted behind the app's back: a dangling entry). ``sync_era_actor.png``: the actor list after
that check (0388's mark) with 0521, written before the S3-only change, chosen: its row, tooltip
and the line over the grid. ``migrate_dialog.png``: Actor → Migrate… on 0521, the dry run.
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


def start_screen(home: Path, size: str) -> tuple[dict[str, str], list[subprocess.Popen]]:
    """A virtual X screen with a window manager, and the environment of a throwaway home."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_", "QT_"))},
        "DISPLAY": DISPLAY,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{size}x24", "-nolisten", "tcp"])
    procs = [xvfb]
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
    return env, procs


def end_demo(demo: subprocess.Popen | None, procs: list[subprocess.Popen], home: Path) -> None:
    """Wait for the demo the keys closed, then stop the screen and forget the home."""
    try:
        if demo is not None:
            demo.wait(timeout=60)
            print("demo exited with", demo.returncode)
    finally:
        stop(procs)
        shutil.rmtree(home, ignore_errors=True)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()


def open_demo(home: Path, env: dict[str, str], procs: list[subprocess.Popen]) -> subprocess.Popen:
    """``tdm-desktop demo`` with its log in ``home``, once its window is there: 1400x900 at 0,0."""
    tdm = Path(sys.executable).with_name("tdm-desktop")
    log = open(home / "demo.log", "w")  # noqa: SIM115
    demo = subprocess.Popen(
        [str(tdm), "demo", "--port", PORT], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    procs.append(demo)
    window = wait_for(lambda: windows_named("Training Data Manager", env), 180, "the window")[0]
    sh("xdotool", "windowsize", window, "1400", "900", env=env)
    sh("xdotool", "windowmove", window, "0", "0", env=env)
    return demo


def windows_named(name: str, env: dict[str, str]) -> list[str]:
    return sh("xdotool", "search", "--name", name, env=env, check=False).split()


def main() -> int:
    for tool in ("Xvfb", "xdotool", "import"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install xvfb xdotool imagemagick")
    only = {"--team", "--integrity", "--review"} & set(sys.argv)
    if not only:
        solo_shots()
    if not only or "--team" in only:
        team_shot()
    if not only or "--integrity" in only:
        integrity_shots()
    if not only or "--review" in only:
        from review_shots import review_shots  # the review's: compare, base image, filters

        review_shots()
    return 0


def team_shot() -> None:
    """``demo --curators 2``: alice flags two images bad; bob's window shows it, by alice."""
    home = Path(tempfile.mkdtemp(prefix="tdm-shots-"))
    env, procs = start_screen(home, "1600x1000")
    demo = None
    try:
        tdm = Path(sys.executable).with_name("tdm-desktop")
        log = open(home / "demo.log", "w")  # noqa: SIM115
        demo = subprocess.Popen(
            [str(tdm), "demo", "--curators", "2", "--port", PORT],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(demo)
        wait_for(lambda: len(windows_named("Training Data Manager", env)) >= 2, 180, "2 windows")
        time.sleep(4)  # thumbnails arrive
        alice = wait_for(
            lambda: windows_named("— alice — Training Data Manager", env), 60, "alice"
        )[0]
        sh("xdotool", "windowactivate", "--sync", alice, env=env)
        time.sleep(0.5)
        key("Right", "shift+Right", "b", "Left", "Left")  # _1 and _2 bad in one write, by alice
        time.sleep(7)  # bob's window checks S3 every 5 s
        # bob looks: the tooltip on _2 says who flagged it and when
        bob = windows_named("— bob — Training Data Manager", env)[0]
        sh("xdotool", "windowactivate", "--sync", bob, env=env)
        sh(
            "xdotool",
            "mousemove",
            "1160",
            "400",
            "sleep",
            "0.3",
            "mousemove",
            "1165",
            "440",
            env=env,
        )
        shot("two_curators", settle=2.5)
        key("ctrl+q")
        sh("xdotool", "windowactivate", "--sync", alice, env=env, check=False)
        key("ctrl+q")
    finally:
        end_demo(demo, procs, home)


def solo_shots() -> None:
    home = Path(tempfile.mkdtemp(prefix="tdm-shots-"))
    env, procs = start_screen(home, "1400x900")
    env["TDM_CURATOR"] = "alice"
    demo = None
    try:
        demo = open_demo(home, env, procs)
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
        actor = "0388_latina_35_female"
        prefix = f"system_actors/training_data/{actor}/{actor}"
        manifest = "catalog/actor_manifests/0388_manifest.json"  # the demo's catalog in S3
        sh(
            sys.executable,
            "-c",
            "import boto3; s3 = boto3.client('s3'); b = 'story-boards-assets'\n"
            f"s3.delete_object(Bucket=b, Key='{prefix}_2.jpg')\n"
            f"m = s3.get_object(Bucket=b, Key='{manifest}')['Body'].read().decode()\n"
            f"m = m.replace('https://story-boards-assets.s3.amazonaws.com/{prefix}_5.jpg',"
            f" 'https://someone-else.s3.amazonaws.com/{prefix}_5.jpg')\n"
            f"s3.put_object(Bucket=b, Key='{manifest}', Body=m.encode())",
            env={**env, **exports},
        )
        key("F5")
        time.sleep(1)
        # the actor search box, then the one row left (row heights vary with the list's icons)
        sh("xdotool", "mousemove", "150", "75", "click", "1", env=env)
        sh("xdotool", "type", "--delay", "80", "0388", env=env)
        time.sleep(0.5)
        sh("xdotool", "mousemove", "147", "108", "click", "1", env=env)
        shot("error_tiles", settle=4.0)
        key("ctrl+q")
    finally:
        end_demo(demo, procs, home)


def integrity_shots() -> None:
    """Check against S3… on 0388, the sync-era 0521 in the list, and Migrate…'s dry run."""
    home = Path(tempfile.mkdtemp(prefix="tdm-shots-"))
    env, procs = start_screen(home, "1400x900")
    env["TDM_CURATOR"] = "alice"
    demo = None
    try:
        demo = open_demo(home, env, procs)
        time.sleep(3)
        # Behind the app's back, one of 0388's objects goes: with the demo's orphan, two kinds.
        text = (home / "demo.log").read_text()
        exports = dict(re.findall(r"(AWS_[A-Z_0-9]+)=(\S+)", text))
        key_2 = "system_actors/training_data/0388_latina_35_female/0388_latina_35_female_2.jpg"
        sh(
            sys.executable,
            "-c",
            "import boto3; boto3.client('s3').delete_object("
            f"Bucket='story-boards-assets', Key='{key_2}')",
            env={**env, **exports},
        )
        sh("xdotool", "mousemove", "150", "75", "click", "1", env=env)  # the search box
        sh("xdotool", "type", "--delay", "80", "0388", env=env)
        time.sleep(0.5)
        sh("xdotool", "mousemove", "147", "108", "click", "1", env=env)  # the one row left
        time.sleep(3)
        key("alt+a", "Return")  # Actor → Check against S3…
        shot("check_against_s3", settle=3.0)
        key("Escape")
        sh("xdotool", "mousemove", "150", "75", "click", "1", env=env)
        key("ctrl+a", "BackSpace")
        time.sleep(0.5)
        sh("xdotool", "mousemove", "120", "212", "click", "1", env=env)  # 0521, the fifth row
        time.sleep(2)
        sh("xdotool", "mousemove", "118", "214", "sleep", "0.3", "mousemove", "122", "213", env=env)
        shot("sync_era_actor", settle=2.5)
        key("alt+a", "m")  # Actor → Migrate…
        shot("migrate_dialog", settle=3.0)
        key("Escape", "ctrl+q")
    finally:
        end_demo(demo, procs, home)


if __name__ == "__main__":
    raise SystemExit(main())
