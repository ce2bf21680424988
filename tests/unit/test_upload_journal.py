"""The intent a generation records before uploading, and what the next run does with it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from tdm_desktop.core.errors import UploadJournalError
from tdm_desktop.core.generation import GenerationService
from tdm_desktop.core.interrupted import recover_interrupted
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.timestamps import manifest_now
from tdm_desktop.core.upload_journal import UploadIntent, UploadJournal, is_abandoned, this_host
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tests.factories import jpeg_bytes, make_actor

ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"
NOW = datetime(2025, 10, 17, 16, 0, tzinfo=UTC)


def name(n: int) -> str:
    return f"{ACTOR}_{n}.jpg"


def intent(n: int, *, started: datetime = NOW, host: str = "studio", pid: int = 4242, **kw):
    return UploadIntent(
        name(n), PREFIX + name(n), manifest_now(lambda: started), host, pid, prompt="p", **kw
    )


def journal(data_dir) -> UploadJournal:
    return UploadJournal.for_actor(data_dir, ACTOR)


@pytest.mark.parametrize(
    ("host", "alive", "age", "abandoned"),
    [
        ("here", False, timedelta(seconds=1), True),  # its process on this machine is gone
        ("here", True, timedelta(seconds=1), False),  # still running here
        ("there", False, timedelta(minutes=9), False),  # another machine: only its age tells
        ("there", True, timedelta(minutes=11), True),
    ],
)
def test_an_intent_is_abandoned_when_its_process_is_gone_or_it_is_old(host, alive, age, abandoned):
    record = intent(0, started=NOW - age, host=host)
    assert is_abandoned(record, NOW, "here", lambda pid: alive) is abandoned


def test_a_generation_records_its_intent_before_uploading_and_ends_it_after(catalog, store):
    make_actor(catalog, store, count=1)
    seen: list[dict] = []

    class Watches(type(store)):
        def put_new(self, key, data, content_type):
            seen.append(journal(catalog).pending())
            super().put_new(key, data, content_type)

    watched = Watches(store._client, store.bucket)
    GenerationService(catalog, watched, PlaceholderGenerator()).generate(ACTOR_ID, "a prompt", 3)
    (pending,) = seen
    record = pending[name(1)]
    assert (record.key, record.prompt, record.seed, record.generator) == (
        PREFIX + name(1),
        "a prompt",
        3,
        "placeholder",
    )
    assert (record.host, record.pid) == (this_host(), os.getpid())
    assert journal(catalog).pending() == {}


def test_a_collision_ends_that_names_intent_and_the_next_name_gets_its_own(catalog, store):
    make_actor(catalog, store, count=1)
    store.put_new(store.key_for(ACTOR, name(1)), b"another tool", "image/jpeg")
    image = GenerationService(catalog, store, PlaceholderGenerator()).generate(ACTOR_ID, "p")
    assert image.filename == name(2)
    assert journal(catalog).pending() == {}
    assert store.get_bytes(store.key_for(ACTOR, name(1))) == b"another tool"


def test_a_broken_journal_never_stops_a_generation(data_dir, store):
    make_actor(data_dir, store, count=1)
    path = journal(data_dir).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"uploads": []}')
    with pytest.raises(UploadJournalError):
        journal(data_dir).pending()
    image = GenerationService(data_dir, store, PlaceholderGenerator()).generate(ACTOR_ID, "p")
    assert image.filename == name(1) and image.metadata_error is None
    assert path.read_text() == '{"uploads": []}'  # never overwritten


def recover(catalog, store, now=NOW, alive=lambda pid: False):
    return recover_interrupted(
        TrainingDataManifest.for_actor(catalog, ACTOR_ID),
        PromptMetadata.for_actor(catalog, ACTOR),
        journal(catalog),
        store,
        now,
        store.aws_url_for,
        alive,
    )


def test_recovery_lists_the_upload_records_a_missing_prompt_and_forgets_what_never_landed(
    catalog, store
):
    make_actor(catalog, store, count=2)
    here = this_host()
    store.put_new(store.key_for(ACTOR, name(5)), jpeg_bytes(5), "image/jpeg")
    now = datetime.now(UTC)
    for record in (
        intent(1, started=now, host=here),  # listed already; its prompt never recorded
        intent(5, started=now, host=here, seed=9),  # uploaded, never listed
        intent(6, started=now, host=here),  # never uploaded
        intent(7, started=now, host="there"),  # another machine, recent: left alone
    ):
        journal(catalog).begin(record)
    result = recover(catalog, store, now=now)
    assert (result.adopted, result.recorded, result.forgotten) == ([name(5)], [name(1)], [name(6)])
    listed = {
        e.filename: e
        for e in TrainingDataManifest.for_actor(catalog, ACTOR_ID).load().get_all_images()
    }
    assert list(listed) == [name(0), name(1), name(5)]
    assert listed[name(5)].s3_url == store.aws_url_for(PREFIX + name(5))
    metadata = PromptMetadata.for_actor(catalog, ACTOR)
    assert metadata.generation(name(5))["seed"] == 9
    assert metadata.generation(name(1))["prompt"] == "p"
    assert list(journal(catalog).pending()) == [name(7)]


def test_an_object_older_than_the_intent_is_not_adopted(catalog, store):
    make_actor(catalog, store, count=1)
    store.put_new(store.key_for(ACTOR, name(3)), jpeg_bytes(3), "image/jpeg")
    journal(catalog).begin(intent(3, started=datetime.now(UTC) + timedelta(hours=1)))
    result = recover(catalog, store, now=datetime.now(UTC) + timedelta(hours=2))
    assert result.adopted == [] and result.forgotten == [name(3)]
    assert [
        e.filename
        for e in TrainingDataManifest.for_actor(catalog, ACTOR_ID).load().get_all_images()
    ] == [name(0)]
    assert journal(catalog).pending() == {}


def test_an_intent_for_another_actors_key_is_never_acted_on(catalog, store):
    make_actor(catalog, store, count=1)
    other = "system_actors/training_data/0107_japanese_25_female/" + name(4)
    store.put_new(other, jpeg_bytes(4), "image/jpeg")
    bogus = UploadIntent(name(4), other, manifest_now(lambda: NOW), "studio", 1, prompt="p")
    journal(catalog).begin(bogus)
    result = recover(catalog, store, now=NOW + timedelta(hours=1))
    assert result.adopted == []
    assert len(TrainingDataManifest.for_actor(catalog, ACTOR_ID).load().get_all_images()) == 1
    assert journal(catalog).pending() == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"uploads": {"../x": {}}}', "the key must be a valid file name"),
        ('{"uploads": {"a.jpg": {"key": "k", "host": "h", "pid": 0, "started_at": "x"}}}', "pid"),
        (
            '{"uploads": {"a.jpg": {"key": "k", "host": "h", "pid": 1, "started_at": "soon"}}}',
            "started_at",
        ),
        ('{"uploads": ' + "[" * 100 + "]" * 100 + "}", "nested too deeply"),
    ],
)
def test_an_invalid_journal_names_the_file_and_the_field(data_dir, content, problem):
    path = journal(data_dir).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(UploadJournalError) as caught:
        journal(data_dir).pending()
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)
    assert json.loads(path.read_text()) is not None
