"""The generation service: generator -> JPEG -> S3 (never overwriting) -> manifest -> metadata."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from tdm_desktop.core.documents import LocalDocuments
from tdm_desktop.core.errors import ActorNotFoundError, GeneratorError, ManifestError
from tdm_desktop.core.generation import GeneratedImage, GenerationService
from tdm_desktop.core.layout import base_image_name, prompt_metadata_name
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.generators import GenerationRequest, GenerationResult
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tests.catalogs import put_raw, raw_bytes

ACTOR = "0042_european_30_male"
ACTOR_ID = "0042"
PREFIX = f"system_actors/training_data/{ACTOR}/"
NOW = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def encode(prompt: str, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """A small image that carries its prompt (in a JPEG comment), so bytes show who made them."""
    out = io.BytesIO()
    image = Image.new(mode, (32, 24), (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200))
    if fmt == "JPEG":
        image.save(out, fmt, comment=prompt.encode())
    else:
        image.save(out, fmt)
    return out.getvalue()


def comment_of(data: bytes) -> str:
    return Image.open(io.BytesIO(data)).info.get("comment", b"").decode()


class StubGenerator:
    """Fast and scriptable: fails on some prompts, runs a hook while "generating"."""

    name = "stub"

    def __init__(self, fail_on: set[str] | None = None, fmt: str = "JPEG", hook=None) -> None:
        self.fail_on = fail_on or set()
        self.fmt = fmt
        self.hook = hook
        self.requests: list[GenerationRequest] = []
        self._lock = threading.Lock()

    def generate(self, request: GenerationRequest) -> GenerationResult:
        with self._lock:
            self.requests.append(request)
        if self.hook is not None:
            self.hook(request)
        if request.prompt in self.fail_on:
            raise GeneratorError(f"stub: refused prompt {request.prompt!r}")
        mode = "RGBA" if self.fmt == "PNG" else "RGB"
        data = encode(request.prompt, self.fmt, mode)
        mime = "image/jpeg" if self.fmt == "JPEG" else "image/png"
        seed = 4242 if request.seed is None else request.seed
        return GenerationResult(data, mime, seed, 32, 24, {"generator": "stub"})


@pytest.fixture
def data_dir(catalog, request):
    """The catalog, a folder or an S3 prefix. Tests racing threads on one document run on the
    folder only: moto checks a conditional write and stores it in two steps (SeaweedFS does both
    at once; tests/integration/test_catalog_races.py proves the races there)."""
    if request.node.get_closest_marker("atomic_writes") and not isinstance(catalog, LocalDocuments):
        pytest.skip("moto's conditional writes are not atomic; raced on SeaweedFS instead")
    return catalog


@pytest.fixture
def manifest(data_dir) -> TrainingDataManifest:
    return TrainingDataManifest.for_actor(data_dir, ACTOR_ID).create(ACTOR_ID, ACTOR)


def service(data_dir, store, generator=None) -> GenerationService:
    return GenerationService(data_dir, store, generator or StubGenerator(), clock=fixed_clock)


def manifest_names(data_dir) -> list[str]:
    entries = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).get_all_images()
    return [entry.filename for entry in entries]


def s3_names(store: S3Store) -> list[str]:
    return sorted(key[len(PREFIX) :] for key in store.list_keys(PREFIX))


def metadata(data_dir) -> PromptMetadata:
    return PromptMetadata.for_actor(data_dir, ACTOR)


# ---- names -------------------------------------------------------------------------------------


def test_a_new_image_is_named_one_past_the_highest_number(data_dir, store, manifest):
    for name in (f"{ACTOR}_x.jpg", "a.jpg"):  # not numbered names of this actor: ignored
        manifest.add_image(name, "https://story-boards-assets.s3.amazonaws.com/x", 0.3)
    assert service(data_dir, store).generate(ACTOR_ID, "first").filename == f"{ACTOR}_0.jpg"
    for name in (f"{ACTOR}_7.jpg", f"{ACTOR}_3.png", "other_actor_99.jpg"):
        manifest.add_image(name, "https://story-boards-assets.s3.amazonaws.com/x", 0.3)
    assert service(data_dir, store).generate(ACTOR_ID, "next").filename == f"{ACTOR}_8.jpg"


# ---- one image ---------------------------------------------------------------------------------


def test_generated_image_lands_in_s3_manifest_and_metadata(data_dir, store, manifest, caplog):
    caplog.set_level("INFO")
    generator = PlaceholderGenerator()
    image = service(data_dir, store, generator).generate(ACTOR_ID, "studio portrait", seed=11)

    filename = f"{ACTOR}_0.jpg"
    key = PREFIX + filename
    data = store.get_bytes(key)
    assert data[:3] == b"\xff\xd8\xff"
    assert data == generator.generate(GenerationRequest("studio portrait", seed=11)).image_bytes
    assert image == GeneratedImage(
        filename=filename,
        s3_url=f"https://story-boards-assets.s3.amazonaws.com/{key}",
        size_mb=round(len(data) / (1024 * 1024), 2),
        seed=11,
        prompt="studio portrait",
        generator="placeholder",
    )
    (entry,) = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).get_all_images()
    assert (entry.filename, entry.s3_url, entry.size_mb) == (filename, image.s3_url, image.size_mb)
    assert entry.modified_date == "2026-03-04T05:06:07.123456"
    recorded = metadata(data_dir)
    assert recorded.is_good(filename) and not recorded.review(filename).decided
    assert "good" not in recorded.images()[filename]  # a generation record is no decision
    assert recorded.generation(filename)["prompt"] == "studio portrait"
    assert recorded.generation(filename)["seed"] == 11
    assert recorded.generation(filename)["generator"] == "placeholder"
    assert f"[S3-ONLY] Generated {filename}" in caplog.text


def test_existing_object_is_never_overwritten(data_dir, store, s3_client, manifest):
    s3_client.put_object(Bucket=store.bucket, Key=PREFIX + f"{ACTOR}_0.jpg", Body=b"precious")
    image = service(data_dir, store).generate(ACTOR_ID, "new one")
    assert image.filename == f"{ACTOR}_1.jpg"
    assert store.get_bytes(PREFIX + f"{ACTOR}_0.jpg") == b"precious"
    assert comment_of(store.get_bytes(PREFIX + f"{ACTOR}_1.jpg")) == "new one"
    assert manifest_names(data_dir) == [f"{ACTOR}_1.jpg"]


def test_many_unlisted_objects_are_skipped(data_dir, store, s3_client, manifest):
    for n in range(40):
        s3_client.put_object(Bucket=store.bucket, Key=PREFIX + f"{ACTOR}_{n}.jpg", Body=b"old")
    image = service(data_dir, store).generate(ACTOR_ID, "after the orphans")
    assert image.filename == f"{ACTOR}_40.jpg"
    assert all(store.get_bytes(PREFIX + f"{ACTOR}_{n}.jpg") == b"old" for n in range(40))


def test_numbering_continues_after_the_manifest(data_dir, store, manifest):
    manifest.add_image(f"{ACTOR}_16.jpg", "https://story-boards-assets.s3.amazonaws.com/x", 0.3)
    image = service(data_dir, store).generate(ACTOR_ID, "next")
    assert image.filename == f"{ACTOR}_17.jpg"
    assert manifest_names(data_dir) == [f"{ACTOR}_16.jpg", f"{ACTOR}_17.jpg"]


def test_png_from_the_generator_is_stored_as_jpeg(data_dir, store, s3_client, manifest):
    image = service(data_dir, store, StubGenerator(fmt="PNG")).generate(ACTOR_ID, "png please")
    key = PREFIX + image.filename
    data = store.get_bytes(key)
    assert data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(data)).size == (32, 24)
    assert s3_client.head_object(Bucket=store.bucket, Key=key)["ContentType"] == "image/jpeg"


def test_base_image_is_given_to_the_generator(data_dir, store, manifest):
    put_raw(data_dir, base_image_name(ACTOR), encode("base", "PNG"))
    generator = StubGenerator()
    service(data_dir, store, generator).generate(ACTOR_ID, "from base")
    assert generator.requests[0].base_image == encode("base", "PNG")


def test_without_base_image_the_request_has_none(data_dir, store, manifest):
    generator = StubGenerator()
    service(data_dir, store, generator).generate(ACTOR_ID, "text only", negative_prompt="blur")
    (request,) = generator.requests
    assert request.base_image is None
    assert (request.prompt, request.negative_prompt, request.seed) == ("text only", "blur", None)


def test_generator_failure_leaves_nothing(data_dir, store, manifest):
    with pytest.raises(GeneratorError, match="refused"):
        service(data_dir, store, StubGenerator(fail_on={"bad"})).generate(ACTOR_ID, "bad")
    assert s3_names(store) == []
    assert manifest_names(data_dir) == []


class BreaksManifestStore(S3Store):
    """Someone corrupts the manifest right after our upload succeeded."""

    def __init__(self, client: Any, bucket: str, manifest: TrainingDataManifest) -> None:
        super().__init__(client, bucket)
        self.manifest = manifest

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        super().put_new(key, data, content_type)
        put_raw(self.manifest.document.store, self.manifest.document.name, b"{ not json")


def test_manifest_failure_deletes_the_uploaded_object(data_dir, s3_client, manifest):
    store = BreaksManifestStore(s3_client, "story-boards-assets", manifest)
    with pytest.raises(ManifestError):
        service(data_dir, store).generate(ACTOR_ID, "doomed")
    assert s3_names(store) == []
    assert raw_bytes(data_dir, manifest.document.name) == b"{ not json"


def test_broken_manifest_fails_before_any_upload(data_dir, store, manifest):
    def break_manifest(request: GenerationRequest) -> None:
        put_raw(data_dir, manifest.document.name, b"{ not json")

    with pytest.raises(ManifestError):
        service(data_dir, store, StubGenerator(hook=break_manifest)).generate(ACTOR_ID, "x")
    assert s3_names(store) == []


class ListsBeforeUsStore(S3Store):
    """Another process lists a name in the manifest right after our upload to it succeeded."""

    def __init__(self, client: Any, bucket: str, data_dir) -> None:
        super().__init__(client, bucket)
        self.data_dir = data_dir
        self.done = False

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        super().put_new(key, data, content_type)
        if not self.done:
            self.done = True
            name = key.rsplit("/", 1)[1]
            other = TrainingDataManifest.for_actor(self.data_dir, ACTOR_ID)
            other.add_image(name, "https://story-boards-assets.s3.amazonaws.com/" + key, 1)


def test_stale_manifest_entry_does_not_keep_our_object(data_dir, s3_client, manifest):
    store = ListsBeforeUsStore(s3_client, "story-boards-assets", data_dir)
    image = service(data_dir, store).generate(ACTOR_ID, "mine")
    assert image.filename == f"{ACTOR}_1.jpg"
    assert s3_names(store) == [f"{ACTOR}_1.jpg"]
    assert manifest_names(data_dir) == [f"{ACTOR}_0.jpg", f"{ACTOR}_1.jpg"]


def test_manifest_is_reread_after_a_slow_generation(data_dir, store, manifest):
    def another_window_adds_one(request: GenerationRequest) -> None:
        other = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
        other.add_image(f"{ACTOR}_5.jpg", "https://story-boards-assets.s3.amazonaws.com/x", 1)

    image = service(data_dir, store, StubGenerator(hook=another_window_adds_one)).generate(
        ACTOR_ID, "slow"
    )
    assert image.filename == f"{ACTOR}_6.jpg"


def test_unknown_actor(data_dir, store):
    with pytest.raises(ActorNotFoundError, match="0077"):
        service(data_dir, store).generate("77", "anyone?")


def test_metadata_problem_is_reported_but_the_image_stays(data_dir, store, manifest):
    put_raw(data_dir, prompt_metadata_name(ACTOR), b"[1, 2]")
    image = service(data_dir, store).generate(ACTOR_ID, "still lands")
    assert image.metadata_error and "prompt_metadata.json" in image.metadata_error
    assert s3_names(store) == [image.filename]
    assert manifest_names(data_dir) == [image.filename]
    assert raw_bytes(data_dir, prompt_metadata_name(ACTOR)) == b"[1, 2]"


def test_actor_prompts_are_the_actors_own_list(data_dir, store, manifest):
    put_raw(
        data_dir,
        prompt_metadata_name(ACTOR),
        json.dumps({"prompts": ["close-up", "full body"]}).encode(),
    )
    assert service(data_dir, store).actor_prompts(42) == ["close-up", "full body"]


def test_actor_prompts_default_list_names_the_actor(data_dir, store, manifest):
    prompts = service(data_dir, store).actor_prompts(ACTOR_ID)
    assert prompts and all(isinstance(p, str) and p.strip() for p in prompts)


# ---- many images -------------------------------------------------------------------------------


def test_generate_all_keeps_going_past_failures(data_dir, store, manifest):
    prompts = ["one", "bad-a", "two", "bad-b", "three"]
    progress: list[tuple[int, int, int, Any]] = []
    report = service(data_dir, store, StubGenerator(fail_on={"bad-a", "bad-b"})).generate_all(
        ACTOR_ID, prompts, on_progress=lambda *args: progress.append(args)
    )
    assert [image.prompt for image in report.generated] == ["one", "two", "three"]
    assert [prompt for prompt, _ in report.failed] == ["bad-a", "bad-b"]
    assert "refused prompt 'bad-a'" in report.failed[0][1]
    assert report.cancelled == [] and not report.ok
    assert report.summary() == "Generated 3 of 5 images (2 failed)"
    expected = [f"{ACTOR}_{n}.jpg" for n in range(3)]
    assert s3_names(store) == expected
    assert manifest_names(data_dir) == expected
    assert [(done, failed, total) for done, failed, total, _ in progress] == [
        (1, 0, 5), (1, 1, 5), (2, 1, 5), (2, 2, 5), (3, 2, 5),
    ]  # fmt: skip
    assert progress[-1][3].prompt == "three" and progress[1][3] is None


def test_should_stop_lets_the_image_in_flight_finish(data_dir, store, manifest):
    stop = threading.Event()

    def stop_while_generating_two(request: GenerationRequest) -> None:
        if request.prompt == "two":
            stop.set()

    generator = StubGenerator(hook=stop_while_generating_two)
    report = service(data_dir, store, generator).generate_all(
        ACTOR_ID, ["one", "two", "three", "four"], should_stop=stop.is_set
    )
    assert [image.prompt for image in report.generated] == ["one", "two"]
    assert report.cancelled == ["three", "four"]
    assert report.summary() == "Generated 2 of 4 images (2 cancelled)"
    assert [r.prompt for r in generator.requests] == ["one", "two"]
    assert manifest_names(data_dir) == [f"{ACTOR}_0.jpg", f"{ACTOR}_1.jpg"]


@pytest.mark.atomic_writes
def test_generate_all_with_workers_gives_distinct_names(data_dir, store, manifest):
    prompts = [f"prompt {i}" for i in range(8)]
    report = service(data_dir, store).generate_all(ACTOR_ID, prompts, seed=5, concurrency=4)
    assert report.ok and len(report.generated) == 8
    assert report.summary() == "Generated 8 of 8 images"
    assert {image.seed for image in report.generated} == {5}
    expected = sorted(f"{ACTOR}_{n}.jpg" for n in range(8))
    assert s3_names(store) == expected
    assert sorted(manifest_names(data_dir)) == expected
    assert_objects_match_metadata(data_dir, store)


class AtomicPutStore(S3Store):
    """moto checks If-None-Match and writes in two steps; real S3 does both atomically."""

    _put_lock = threading.Lock()

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        with self._put_lock:
            super().put_new(key, data, content_type)


@pytest.mark.atomic_writes
def test_two_services_on_one_actor_never_share_a_name(data_dir, s3_client, manifest, caplog):
    caplog.set_level("INFO", logger="tdm_desktop.core.generation")
    store = AtomicPutStore(s3_client, "story-boards-assets")
    both_ready = threading.Barrier(2)

    def race(request: GenerationRequest) -> None:
        if request.prompt.endswith(" 0"):
            both_ready.wait(5)  # both start their first upload for the same next name

    services = [service(data_dir, store, StubGenerator(hook=race)) for _ in range(2)]
    reports: dict[str, Any] = {}

    def run(label: str, generation: GenerationService) -> None:
        prompts = [f"{label} {i}" for i in range(4)]
        reports[label] = generation.generate_all(ACTOR_ID, prompts)

    threads = [
        threading.Thread(target=run, args=(label, gen))
        for label, gen in zip(["window", "cli"], services, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert all(report.ok for report in reports.values())
    expected = sorted(f"{ACTOR}_{n}.jpg" for n in range(8))
    assert s3_names(store) == expected
    assert sorted(manifest_names(data_dir)) == expected
    assert_objects_match_metadata(data_dir, store)
    stats = json.loads(raw_bytes(data_dir, manifest.document.name))["statistics"]
    assert stats["training_images_count"] == 8
    assert "already exists in S3; taking the next number" in caplog.text  # they did collide


def assert_objects_match_metadata(data_dir, store: S3Store) -> None:
    """Each object holds the image of the prompt its metadata records: nothing was overwritten."""
    recorded = metadata(data_dir)
    for filename in manifest_names(data_dir):
        prompt = recorded.generation(filename)["prompt"]
        assert comment_of(store.get_bytes(PREFIX + filename)) == prompt, filename
