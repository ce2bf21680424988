"""``python -m tdm_desktop`` as real processes against the bundled SeaweedFS: exit codes, the lines
printed, the objects left in S3 and the manifest bytes left on disk. Then ``demo --no-window``
from start to Ctrl+C, twice."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.demo import (
    DEMO_ACTORS,
    ORPHAN_ACTOR,
    ORPHAN_FILENAME,
    SYNC_ERA_ACTOR,
    SYNC_ERA_IN_S3,
)
from tdm_desktop.local_s3 import CREDENTIALS_FILENAME, choose_ports
from tests.conftest import BUCKET
from tests.factories import make_actor
from tests.fake_a1111 import png_bytes
from tests.integration.test_local_s3 import LineReader, alive

REPO = Path(__file__).resolve().parents[2]
ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"
JPEG_MAGIC = b"\xff\xd8\xff"
AWS_URL = f"https://{BUCKET}.s3.amazonaws.com/"


def base_env(tmp_path: Path) -> dict[str, str]:
    """The user's environment without AWS/TDM settings; home, XDG dirs and AWS files in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        PYTHONPATH=str(REPO / "src"),
    )
    return env


def run_cli(
    env: dict[str, str], data_dir: Path | str, *argv: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tdm_desktop", "--data-dir", str(data_dir), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the design's ``[S3-ONLY]`` progress lines."""
    return [line for line in result.stderr.splitlines() if not line.startswith("[S3-ONLY]")]


def manifest_json(data_dir: Path, actor_id: str = ACTOR_ID) -> dict:
    path = TrainingDataManifest.for_actor(data_dir, actor_id).path
    return json.loads(path.read_bytes())


def listed(data_dir: Path) -> list[str]:
    return [item["filename"] for item in manifest_json(data_dir)["training_data"]]


def in_s3(store: S3Store, prefix: str = PREFIX) -> list[str]:
    return sorted(key[len(prefix) :] for key in store.list_keys(prefix))


@pytest.fixture
def env(tmp_path, local_s3) -> dict[str, str]:
    return base_env(tmp_path) | local_s3.env()


# --- the commands on one actor --------------------------------------------------------------------


def test_curating_an_actor_from_the_command_line(env, data_dir, seaweed_store):
    names = make_actor(data_dir, seaweed_store, count=4)
    make_actor(
        data_dir, seaweed_store, actor_id="0107", actor_name="0107_japanese_25_female", count=2
    )

    result = run_cli(env, data_dir, "actors")
    assert (result.returncode, errors(result)) == (0, [])
    assert result.stdout.splitlines() == [
        f"0042  {ACTOR}  4 images",
        "0107  0107_japanese_25_female  2 images",
    ]

    result = run_cli(env, data_dir, "mark", "42", names[1], names[3], "--bad")
    assert (result.returncode, result.stdout) == (0, "marked 2 image(s) bad\n")

    result = run_cli(env, data_dir, "training-data", "42")
    assert result.returncode == 0
    response = json.loads(result.stdout)
    assert (response["actor_id"], response["total_count"]) == (42, 4)
    assert [(i["filename"], i["good"]) for i in response["training_images"]] == [
        (names[0], True),
        (names[1], False),
        (names[2], True),
        (names[3], False),
    ]
    assert all(i["s3_url"] == AWS_URL + PREFIX + i["filename"] for i in response["training_images"])
    assert "[S3-ONLY] Returning 4 S3 images" in result.stderr.splitlines()

    result = run_cli(env, data_dir, "delete", "0042", names[1])
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"deleted  {names[1]}",
        "1 deleted from S3 and the manifest, 0 kept",
    ]
    assert in_s3(seaweed_store) == listed(data_dir) == [names[0], names[2], names[3]]
    assert PromptMetadata.for_actor(data_dir, ACTOR).flags() == {names[3]: False}

    before = manifest_json(data_dir)
    result = run_cli(env, data_dir, "delete", "42", names[1])  # already gone
    assert result.returncode == 2 and len(errors(result)) == 1
    assert errors(result)[0].startswith("tdm-desktop: error: ") and names[1] in errors(result)[0]
    assert manifest_json(data_dir) == before

    result = run_cli(env, data_dir, "generate", "42", "--prompt", "studio portrait, soft light")
    assert result.returncode == 0, result.stderr
    new = f"{ACTOR}_4.jpg"
    url = f"{seaweed_store.endpoint_url}/{BUCKET}/{PREFIX}{new}"
    line = result.stdout.strip()
    assert line.startswith(f"generated {new} (") and line.endswith(f") -> {url}")
    assert seaweed_store.get_bytes(PREFIX + new).startswith(JPEG_MAGIC)
    assert manifest_json(data_dir)["training_data"][-1]["s3_url"] == url

    result = run_cli(env, data_dir, "delete-all", "42")  # without --yes
    assert result.returncode == 2
    assert errors(result) == [
        f"tdm-desktop: error: delete-all: would delete all 4 images of {ACTOR}; add --yes to do it"
    ]
    assert len(in_s3(seaweed_store)) == 4

    result = run_cli(env, data_dir, "delete-all", "42", "--yes")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "4 deleted from S3 and the manifest, 0 kept"
    assert in_s3(seaweed_store) == []
    saved = manifest_json(data_dir)
    assert saved["training_data"] == []
    assert saved["statistics"] == {"training_images_count": 0, "training_data_size_mb": 0.0}
    other = "system_actors/training_data/0107_japanese_25_female/"
    assert len(seaweed_store.list_keys(other)) == 2  # the other actor is untouched


def test_generate_all_with_two_workers(env, data_dir, seaweed_store):
    make_actor(data_dir, seaweed_store, count=1)
    prompts = [f"portrait {n}, 30 year old european man" for n in range(4)]
    metadata_path = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    metadata_path.parent.mkdir(parents=True, exist_ok=True)
    metadata_path.write_text(json.dumps({"actor_name": ACTOR, "prompts": prompts, "images": {}}))

    result = run_cli(env, data_dir, "generate", "42", "--all", "--concurrency", "2")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("]")[0] + "]" for line in lines[:4]] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert lines[4:] == ["Generated 4 of 4 images with placeholder"]
    new = sorted(f"{ACTOR}_{n}.jpg" for n in range(1, 5))
    assert sorted(line.split()[1] for line in lines[:4]) == new
    assert in_s3(seaweed_store) == sorted(listed(data_dir)) == sorted([f"{ACTOR}_0.jpg", *new])
    assert manifest_json(data_dir)["statistics"]["training_images_count"] == 5
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    assert sorted(metadata.generation(name)["prompt"] for name in new) == prompts
    for name in new:
        assert seaweed_store.get_bytes(PREFIX + name).startswith(JPEG_MAGIC)


def test_generate_all_with_automatic1111_lands_the_others_and_names_the_failure(
    env, data_dir, seaweed_store, fake_a1111
):
    """``generate 0042 --all --generator a1111`` against a fake web UI: img2img from the base
    image, one prompt failing with a 500; the others land in S3 and the manifest, exit 1."""
    make_actor(data_dir, seaweed_store, count=1)
    base = data_dir / "actors" / ACTOR / "base_image" / f"{ACTOR}_base.png"
    base.parent.mkdir(parents=True)
    base.write_bytes(png_bytes((32, 32), "orange"))
    prompts = ["front view, soft light", "profile view FAIL-ME", "three-quarter view, smiling"]
    metadata_path = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    metadata_path.write_text(json.dumps({"actor_name": ACTOR, "prompts": prompts, "images": {}}))
    fake_a1111.fail_marker = "FAIL-ME"

    result = run_cli(
        env | {"TDM_A1111_URL": fake_a1111.url}, data_dir, "generate", "0042", "--all",
        "--generator", "a1111",
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "Generated 2 of 3 images (1 failed) with a1111"
    failed = [line for line in lines if line.startswith("FAILED")]
    assert len(failed) == 1 and "'profile view FAIL-ME'" in failed[0] and "500" in failed[0]
    new = [f"{ACTOR}_1.jpg", f"{ACTOR}_2.jpg"]
    assert in_s3(seaweed_store) == sorted(listed(data_dir)) == [f"{ACTOR}_0.jpg", *new]
    for name in new:  # the PNG answers were re-encoded to JPEG before the upload
        assert seaweed_store.get_bytes(PREFIX + name).startswith(JPEG_MAGIC)
    assert {call["path"] for call in fake_a1111.calls} == {"/sdapi/v1/img2img"}
    assert [call["body"]["prompt"] for call in fake_a1111.calls] == prompts
    recorded = PromptMetadata.for_actor(data_dir, ACTOR)
    assert sorted(recorded.generation(name)["generator"] for name in new) == ["a1111", "a1111"]


def test_wrong_credentials_exit_1_with_one_line_and_change_nothing(
    tmp_path, local_s3, data_dir, seaweed_store
):
    names = make_actor(data_dir, seaweed_store, count=2)
    before = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).path.read_bytes()
    env = base_env(tmp_path) | local_s3.env() | {"AWS_SECRET_ACCESS_KEY": "x" * 40}

    result = run_cli(env, data_dir, "delete", "42", names[0])
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(f"KEPT     {names[0]}: SignatureDoesNotMatch: ")
    assert result.stdout.splitlines()[-1] == "0 deleted from S3 and the manifest, 1 kept"

    result = run_cli(env, data_dir, "generate", "42", "--prompt", "anything")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(errors(result)) == 1
    assert errors(result)[0].startswith("tdm-desktop: error: s3 object ")
    assert "SignatureDoesNotMatch" in errors(result)[0]

    assert TrainingDataManifest.for_actor(data_dir, ACTOR_ID).path.read_bytes() == before
    assert in_s3(seaweed_store) == names


# --- the demo ----------------------------------------------------------------------------------------


def weed_serving(s3_dir: Path) -> list[int]:
    """Pids of the weed processes serving ``s3_dir`` (this test's own tmp dir)."""
    wanted = f"-dir={s3_dir}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in argv and alive(int(proc.name)):
            pids.append(int(proc.name))
    return pids


def start_demo(env: dict[str, str], port: int) -> tuple[subprocess.Popen, LineReader]:
    argv = ["demo", "--no-window", "--port", str(port)]
    demo = subprocess.Popen(
        [sys.executable, "-m", "tdm_desktop", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own group, like a shell job: Ctrl+C goes to the group
        # Ctrl+C works even when the test runner was started with SIGINT ignored (nohup, CI).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return demo, LineReader(demo.stdout)


def until_or_exit(demo: subprocess.Popen, out: LineReader, pattern: str, timeout: float = 120):
    """``out.until(pattern)``; when the demo exits first, the failure shows what it said."""
    try:
        return out.until(pattern, timeout)
    except AssertionError as err:
        if demo.poll() is None:
            raise
        raise AssertionError(
            f"{err}; exit {demo.returncode}; stderr: {demo.stderr.read()}"
        ) from None


def ctrl_c(demo: subprocess.Popen) -> int:
    os.killpg(demo.pid, signal.SIGINT)
    return demo.wait(timeout=60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_seeds_serves_the_cli_reuses_its_data_and_stops_on_ctrl_c(tmp_path, weed_path):
    env = base_env(tmp_path)
    data_dir = f"s3://{BUCKET}/catalog"  # the demo's catalog is in the local S3 too
    s3_dir = (tmp_path / "xdg-data" / "tdm-desktop" / "demo" / "s3").resolve()
    port = choose_ports("127.0.0.1", 0).s3

    demo, out = start_demo(env, port)
    try:
        out.until(
            rf"^Local S3 at http://127\.0\.0\.1:{port} \(data in {re.escape(str(s3_dir))}\)$", 60
        )
        seeded = until_or_exit(
            demo, out, r"^Demo data dir: (.*) \((\d+) new images uploaded\)$", 240
        )
        uploads = sum(a.image_count for a in DEMO_ACTORS) + 1 + len(SYNC_ERA_IN_S3)
        assert seeded.groups() == (data_dir, str(uploads))
        exports = out.until(r"^  export (.*)$", 5).group(1)
        out.until(r"^Serving; press Ctrl\+C to stop\.$", 10)
        cli_env = env | dict(item.split("=", 1) for item in shlex.split(exports))
        assert cli_env["AWS_ENDPOINT_URL_S3"] == f"http://127.0.0.1:{port}"
        weeds = weed_serving(s3_dir)
        assert len(weeds) == 1

        result = run_cli(cli_env, data_dir, "actors")
        assert result.returncode == 1  # the sync-era example says how to migrate it
        assert errors(result) == [
            f"tdm-desktop: actor 0521 is broken: {data_dir}/actor_manifests/0521_manifest.json: "
            "written before the S3-only change: run tdm-desktop migrate 0521"
        ]
        assert result.stdout.splitlines() == [
            f"{a.actor_id}  {a.actor_name}  {a.image_count} images" for a in DEMO_ACTORS
        ]
        store = S3Store(
            make_s3_client(
                endpoint_url=cli_env["AWS_ENDPOINT_URL_S3"],
                access_key=cli_env["AWS_ACCESS_KEY_ID"],
                secret_key=cli_env["AWS_SECRET_ACCESS_KEY"],
                region="us-east-1",
            ),
            BUCKET,
        )
        catalog = S3Documents(store.client, BUCKET, "catalog")
        for actor in DEMO_ACTORS:
            prefix = f"system_actors/training_data/{actor.actor_name}/"
            orphans = 1 if actor == ORPHAN_ACTOR else 0
            assert len(store.list_keys(prefix)) == actor.image_count + orphans
            manifest = TrainingDataManifest.for_actor(catalog, actor.actor_id)
            urls = [entry.s3_url for entry in manifest.get_all_images()]
            assert all(url.startswith(AWS_URL + prefix) for url in urls)
            base = catalog.read(f"actors/{actor.actor_name}/base_image/{actor.actor_name}_base.png")
            assert base.data.startswith(b"\x89PNG")
        assert (
            store.list_keys("catalog/")
            and not (tmp_path / "xdg-data" / "tdm-desktop" / "demo" / "data").exists()
        )
        first = TrainingDataService(catalog, store).load_actor(ACTOR_ID).images[0]
        assert TrainingDataService(catalog, store).fetch_image_bytes(first).startswith(JPEG_MAGIC)
        assert (tmp_path / "xdg-config" / "tdm-desktop" / CREDENTIALS_FILENAME).is_file()

        audit = run_cli(cli_env, data_dir, "audit", "--all")
        assert audit.returncode == 2  # 0521 cannot be audited before it is migrated
        assert f"  orphan  {ORPHAN_FILENAME}: in S3" in audit.stdout
        migrate = run_cli(cli_env, data_dir, "migrate", SYNC_ERA_ACTOR.actor_id)
        assert migrate.returncode == 0, migrate.stderr
        assert "0521  kept 4 entries, dropped 2 with no object in S3" in migrate.stdout
        audit = run_cli(cli_env, data_dir, "audit", SYNC_ERA_ACTOR.actor_id)
        assert audit.returncode == 0, audit.stdout

        assert ctrl_c(demo) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "Stopping the local S3..." in demo.stderr.read()
    assert not any(alive(pid) for pid in weeds)

    again, out = start_demo(env, port)
    try:
        seeded = until_or_exit(again, out, r"^Demo data dir: .* \((\d+) new images uploaded\)$")
        assert seeded.group(1) == "0"
        out.until(r"^Serving; press Ctrl\+C to stop\.$", 10)
        weeds = weed_serving(s3_dir)
        result = run_cli(cli_env, data_dir, "actors")
        assert result.returncode == 0  # the migrated example is not written again
        assert [line.rsplit("  ", 1)[1] for line in result.stdout.splitlines()] == [
            *(f"{a.image_count} images" for a in DEMO_ACTORS),
            f"{len(SYNC_ERA_IN_S3)} images",
        ]
        assert ctrl_c(again) == 0
    finally:
        if again.poll() is None:
            again.kill()
    assert weeds and not any(alive(pid) for pid in weeds)
    assert weed_serving(s3_dir) == []
