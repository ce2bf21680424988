"""prompt_metadata.json: good/bad flags, generation records, the actor's and default prompts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.errors import BadInputError, InvalidNameError, PromptMetadataError
from tdm_desktop.core.prompt_metadata import (
    UNREVIEWED,
    PromptMetadata,
    Review,
    default_prompt_templates,
    fill_prompts,
    parse_actor_name,
)
from tests.catalogs import BUCKET, put_raw, raw_bytes, stored_identity

ACTOR = "0042_european_30_male"
OTHER_ACTOR = "0043_asian_25_female"


def fixed_clock():
    return datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


@pytest.fixture
def metadata(catalog):
    """The actor's prompt metadata, in a folder data dir and in an S3 one."""
    return PromptMetadata.for_actor(catalog, ACTOR, clock=fixed_clock)


NOW = "2026-01-02T03:04:05.600000"


def stored(metadata) -> bytes | None:
    return raw_bytes(metadata.document.store, metadata.document.name)


def on_disk(metadata):
    return json.loads(stored(metadata))


def test_for_actor_path(data_dir):
    path = PromptMetadata.for_actor(data_dir, ACTOR).path
    assert path == data_dir / "actors" / ACTOR / "prompt_metadata.json"
    with pytest.raises(InvalidNameError):
        PromptMetadata.for_actor(data_dir, "../other")


def test_for_actor_in_s3_names_the_object(s3_client):
    metadata = PromptMetadata.for_actor(S3Documents(s3_client, BUCKET, "team"), ACTOR)
    assert metadata.url == f"s3://{BUCKET}/team/actors/{ACTOR}/prompt_metadata.json"


def test_a_missing_file_means_every_image_good_and_the_default_prompts(metadata):
    assert metadata.is_good("anything.jpg")
    assert metadata.flags() == {}
    assert metadata.review("anything.jpg") == UNREVIEWED
    prompts = metadata.prompts()
    assert len(prompts) == len(default_prompt_templates()) >= 15
    assert prompts[0].startswith("portrait photo of a 30 year old european man, front view")
    assert stored(metadata) is None


def test_set_flags_writes_the_documented_format(metadata):
    changed = metadata.set_flags({"a.jpg": False, "b.jpg": True}, curator="alice")

    assert changed == ["a.jpg", "b.jpg"]
    assert on_disk(metadata) == {
        "actor_name": ACTOR,
        "prompts": [],
        "images": {
            "a.jpg": {"good": False, "reviewed_by": "alice", "reviewed_at": NOW},
            "b.jpg": {"good": True, "reviewed_by": "alice", "reviewed_at": NOW},
        },
    }
    reread = PromptMetadata(metadata.document, ACTOR)
    assert reread.is_good("a.jpg") is False
    assert reread.is_good("b.jpg") is True
    assert reread.flags() == {"a.jpg": False, "b.jpg": True}
    assert reread.review("a.jpg") == Review("bad", "alice", NOW)
    assert reread.review("b.jpg") == Review("good", "alice", NOW)
    assert reread.review("c.jpg") == UNREVIEWED and reread.review("c.jpg").good


def test_set_flags_writes_only_when_a_decision_changes(metadata):
    assert metadata.forget(["a.jpg"]) == []
    assert stored(metadata) is None

    metadata.set_flags({"a.jpg": False}, curator="alice")
    before = stored_identity(metadata.document.store, metadata.document.name)
    assert metadata.set_flags({"a.jpg": False}, curator="bob") == []
    assert stored_identity(metadata.document.store, metadata.document.name) == before
    assert metadata.load().review("a.jpg").by == "alice"  # the first decision stays on record

    assert metadata.set_flags({"a.jpg": True}, curator="bob") == ["a.jpg"]
    assert on_disk(metadata)["images"] == {
        "a.jpg": {"good": True, "reviewed_by": "bob", "reviewed_at": NOW}
    }


def test_marking_an_unreviewed_image_good_records_the_decision(metadata):
    assert metadata.set_flags({"a.jpg": True}, curator="alice") == ["a.jpg"]
    assert metadata.load().review("a.jpg") == Review("good", "alice", NOW)
    assert metadata.set_flags({"a.jpg": True}, curator="alice") == []


def test_old_files_without_reviews_read_the_same(metadata):
    put_raw(
        metadata.document.store,
        metadata.document.name,
        b'{"images": {"bad.jpg": {"good": false}, "good.jpg": {"good": true}, '
        b'"made.jpg": {"good": true, "prompt": "p"}}}',
    )
    assert metadata.flags() == {"bad.jpg": False, "good.jpg": True, "made.jpg": True}
    assert metadata.review("bad.jpg") == Review("bad")  # decided, by nobody we know
    assert metadata.review("good.jpg") == UNREVIEWED
    assert metadata.review("made.jpg") == UNREVIEWED
    assert metadata.reviews() == {"bad.jpg": Review("bad")}
    # a legacy bad flag is a decision: marking it bad again changes nothing
    assert metadata.set_flags({"bad.jpg": False}, curator="alice") == []


def test_an_anonymous_flag_records_only_when(metadata):
    metadata.set_flags({"a.jpg": False}, curator="alice")
    metadata.set_flags({"a.jpg": True})
    assert on_disk(metadata)["images"]["a.jpg"] == {"good": True, "reviewed_at": NOW}


def test_set_flags_rejects_bad_filenames_flags_and_curators(metadata):
    with pytest.raises(InvalidNameError):
        metadata.set_flags({"../a.jpg": False})
    with pytest.raises(TypeError):
        metadata.set_flags({"a.jpg": "no"})
    for curator in ("", "   ", "a\nb", "x" * 101):
        with pytest.raises(InvalidNameError, match="curator"):
            metadata.set_flags({"a.jpg": False}, curator=curator)
    assert stored(metadata) is None


def test_undo_gives_back_what_was_there_where_nobody_changed_it_since(metadata):
    metadata.set_flags({"kept.jpg": False}, curator="carol")
    metadata.record_generation("made.jpg", prompt="p", generated_at="2025-10-17T15:57:00.000000")
    before = on_disk(metadata)
    mine = metadata.decide(
        {"new.jpg": False, "kept.jpg": True, "made.jpg": False, "theirs.jpg": False},
        curator="alice",
    )
    other = PromptMetadata(
        metadata.document, ACTOR, clock=lambda: datetime(2026, 1, 2, 4, tzinfo=UTC)
    )
    other.set_flags({"theirs.jpg": True}, curator="bob")

    outcome = metadata.undo(mine)

    assert outcome.undone == ["new.jpg", "kept.jpg", "made.jpg"]
    assert outcome.left_alone == {"theirs.jpg": Review("good", "bob", "2026-01-02T04:00:00.000000")}
    images = on_disk(metadata)["images"]
    assert {k: v for k, v in images.items() if k != "theirs.jpg"} == before["images"]
    assert images["theirs.jpg"]["reviewed_by"] == "bob"


def test_undo_of_a_change_someone_changed_since_writes_nothing(metadata):
    mine = metadata.decide({"a.jpg": False}, curator="alice")
    other = PromptMetadata(metadata.document, ACTOR, clock=lambda: datetime(2026, 1, 3, tzinfo=UTC))
    other.set_flags({"a.jpg": True}, curator="bob")
    identity = stored_identity(metadata.document.store, metadata.document.name)
    outcome = metadata.undo(mine)
    assert outcome.undone == [] and outcome.left_alone["a.jpg"].by == "bob"
    assert stored_identity(metadata.document.store, metadata.document.name) == identity


def test_undo_asked_twice_counts_as_undone_and_writes_nothing_more(metadata):
    mine = metadata.decide({"a.jpg": False}, curator="alice")
    assert metadata.undo(mine).undone == ["a.jpg"]
    identity = stored_identity(metadata.document.store, metadata.document.name)
    again = metadata.undo(mine)
    assert again.undone == ["a.jpg"] and again.left_alone == {}
    assert stored_identity(metadata.document.store, metadata.document.name) == identity


def test_redo_puts_the_decision_back_exactly_where_the_undo_left_the_image(metadata):
    mine = metadata.decide({"new.jpg": False, "theirs.jpg": False}, curator="alice")
    metadata.undo(mine)
    assert metadata.review("new.jpg") == UNREVIEWED  # unreviewed again, not "good by alice"
    other = PromptMetadata(metadata.document, ACTOR, clock=lambda: datetime(2026, 1, 3, tzinfo=UTC))
    other.set_flags({"theirs.jpg": True}, curator="bob")

    outcome = metadata.redo(mine)

    assert outcome.undone == ["new.jpg"]
    assert outcome.left_alone == {"theirs.jpg": Review("good", "bob", "2026-01-03T00:00:00.000000")}
    assert metadata.review("new.jpg") == Review("bad", "alice", NOW)  # the same record as before


def test_record_generation_keeps_the_flag_and_writes_all_fields(metadata):
    metadata.set_flags({"a.jpg": False}, curator="alice")

    metadata.record_generation(
        "a.jpg", prompt="p", seed=7, generator="placeholder", negative_prompt="blurry"
    )
    metadata.record_generation("b.jpg", prompt="q", generated_at="2025-10-17T15:57:00.000Z")

    images = on_disk(metadata)["images"]
    assert images["a.jpg"] == {
        "good": False,
        "reviewed_by": "alice",
        "reviewed_at": NOW,
        "prompt": "p",
        "negative_prompt": "blurry",
        "seed": 7,
        "generator": "placeholder",
        "generated_at": NOW,
    }
    assert images["b.jpg"] == {"prompt": "q", "generated_at": "2025-10-17T15:57:00.000Z"}
    assert metadata.review("b.jpg") == UNREVIEWED and metadata.is_good("b.jpg")
    assert metadata.generation("b.jpg") == {
        "prompt": "q",
        "generated_at": "2025-10-17T15:57:00.000Z",
    }
    assert metadata.generation("c.jpg") is None


def test_record_generation_rejects_bad_values(metadata):
    with pytest.raises(BadInputError, match="seed must be a whole number"):
        metadata.record_generation("a.jpg", prompt="p", seed="7")
    with pytest.raises(BadInputError, match="generated_at must be a timestamp"):
        metadata.record_generation("a.jpg", prompt="p", generated_at="now")
    assert stored(metadata) is None


def test_forget_drops_entries_and_says_which(metadata):
    metadata.set_flags({"a.jpg": False, "b.jpg": False})
    assert metadata.forget(["b.jpg", "zzz.jpg"]) == ["b.jpg"]
    assert list(on_disk(metadata)["images"]) == ["a.jpg"]
    before = stored(metadata)
    assert metadata.forget(["zzz.jpg"]) == []
    assert stored(metadata) == before


def test_unknown_keys_are_kept(metadata):
    put_raw(
        metadata.document.store,
        metadata.document.name,
        json.dumps(
            {
                "version": 2,
                "actor_name": ACTOR,
                "images": {"a.jpg": {"rating": 5, "good": True}},
                "prompts": ["my prompt"],
                "style": {"cfg": 7},
            }
        ).encode(),
    )

    metadata.set_flags({"a.jpg": False, "b.jpg": False}, curator="alice")

    data = on_disk(metadata)
    assert list(data) == ["version", "actor_name", "images", "prompts", "style"]
    assert data["images"]["a.jpg"] == {
        "rating": 5,
        "good": False,
        "reviewed_by": "alice",
        "reviewed_at": NOW,
    }
    assert data["style"] == {"cfg": 7}
    assert metadata.prompts() == ["my prompt"]


def test_a_file_without_actor_name_or_images_is_fine(metadata):
    put_raw(metadata.document.store, metadata.document.name, b'{"prompts": []}')
    assert metadata.flags() == {}
    assert metadata.prompts()[0].startswith("portrait photo of a 30 year old european man")
    metadata.set_flags({"a.jpg": False})
    assert on_disk(metadata) == {
        "prompts": [],
        "images": {"a.jpg": {"good": False, "reviewed_at": NOW}},
    }


def test_changes_re_read_the_file_so_other_writers_are_kept(catalog):
    first = PromptMetadata.for_actor(catalog, ACTOR).load()
    second = PromptMetadata.for_actor(catalog, ACTOR).load()
    first.set_flags({"a.jpg": False})
    second.set_flags({"b.jpg": False})
    assert list(on_disk(first)["images"]) == ["a.jpg", "b.jpg"]


BAD_FILES = {
    "invalid JSON": (b'{"images": {', "the file ends early"),
    "not an object": (b"[]", "top level must be a JSON object"),
    "other actor": (b'{"actor_name": "0043_x_30_male"}', 'actor_name must be "0042_european'),
    "prompts not list": (
        b'{"prompts": "front"}',
        'prompts must be an array of strings, got "front"',
    ),
    "empty prompt": (b'{"prompts": ["a", ""]}', 'prompts[1] must be a non-empty string, got ""'),
    "images not object": (b'{"images": []}', "images must be an object"),
    "bad image key": (
        b'{"images": {"../a.jpg": {}}}',
        'images["../a.jpg"]: the key must be a valid',
    ),
    "entry not object": (b'{"images": {"a.jpg": false}}', 'images["a.jpg"] must be an object'),
    "good not bool": (
        b'{"images": {"a.jpg": {"good": "no"}}}',
        'images["a.jpg"].good must be true or false, got "no"',
    ),
    "seed float": (
        b'{"images": {"a.jpg": {"seed": 1.5}}}',
        'images["a.jpg"].seed must be a whole number, got 1.5',
    ),
    "bad generated_at": (
        b'{"images": {"a.jpg": {"generated_at": "soon"}}}',
        'images["a.jpg"].generated_at must be a timestamp',
    ),
    "not utf-8": (b'{"prompts": ["\xff"]}', "is not UTF-8 text"),
    "0 bytes": (b"", "file is empty"),
    "not JSON at all": (b"\xff\xd8\xff\xe0 a JPEG", "is not UTF-8 text"),
    "reviewed_by not text": (
        b'{"images": {"a.jpg": {"good": false, "reviewed_by": 7}}}',
        'images["a.jpg"].reviewed_by must be a curator',
    ),
    "bad reviewed_at": (
        b'{"images": {"a.jpg": {"good": false, "reviewed_at": "today"}}}',
        'images["a.jpg"].reviewed_at must be a timestamp',
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_an_invalid_file_names_file_and_field_and_is_never_overwritten(metadata, case):
    content, expected = BAD_FILES[case]
    store, name = metadata.document.store, metadata.document.name
    put_raw(store, name, content)
    identity = stored_identity(store, name)

    for attempt in (
        metadata.load,
        lambda: metadata.set_flags({"x.jpg": False}),
        lambda: metadata.forget(["a.jpg"]),
        lambda: metadata.record_generation("x.jpg", prompt="p"),
    ):
        with pytest.raises(PromptMetadataError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{metadata.url}: ")
        assert expected in message
        assert "\n" not in message

    assert stored(metadata) == content
    assert stored_identity(store, name) == identity


# -- default prompts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("0042_european_30_male", "a 30 year old european man"),
        ("0007_south_asian_25_female", "a 25 year old south asian woman"),
        ("0001_asian_80_female", "an 80 year old asian woman"),
        ("0002_african_18_m", "an 18 year old african man"),
        ("0003_indian_female", "an indian woman"),
        ("0004_afro-caribbean_41_nonbinary", "a 41 year old afro-caribbean person"),
        ("0005_Latina_33_Female", "a 33 year old latina woman"),
        ("0006_x2_30_male", "a 30 year old man"),
        ("hero", "a person"),
        ("0009_stunt.double", "a person"),
        ("0010_blue_eyes", "a person"),
    ],
)
def test_actor_names_fill_the_subject(name, subject):
    assert parse_actor_name(name).a_subject == subject
    assert fill_prompts(["photo of {a_subject}, {person}"], name)[0].startswith(
        f"photo of {subject}, "
    )


def test_parse_actor_name_parts():
    looks = parse_actor_name("0042_european_30_male")
    assert (looks.ethnicity, looks.age, looks.gender) == ("european", 30, "male")
    values = looks.placeholders("0042_european_30_male")
    assert {k: values[k] for k in ("ethnicity", "age", "gender")} == {
        "ethnicity": "european",
        "age": "30",
        "gender": "male",
    }


def test_the_default_prompts_cover_a_character_training_set():
    prompts = fill_prompts(default_prompt_templates(), ACTOR)
    text = "\n".join(prompts)

    assert 15 <= len(prompts) <= 30
    assert len(set(prompts)) == len(prompts)
    for needed in ("front view", "three-quarter", "profile", "back view", "close-up",
                   "half-body", "full-body", "smile", "lighting", "street", "park"):  # fmt: skip
        assert needed in text, needed
    for prompt in prompts:
        assert "30 year old european man" in prompt
        assert "{" not in prompt and "}" not in prompt
        assert "  " not in prompt


def test_default_prompts_fill_without_leftovers_for_an_unpatterned_name():
    for prompt in fill_prompts(default_prompt_templates(), "hero"):
        assert "a person" in prompt
        assert "{" not in prompt and "  " not in prompt


def test_injected_default_prompts(data_dir):
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    metadata = PromptMetadata(metadata.path, ACTOR, default_prompts=["{subject} smiling"])
    assert metadata.prompts() == ["30 year old european man smiling"]


def test_decide_each_stores_what_the_decides_one_by_one_store_in_one_write(catalog):
    """Several flag writes merged into one (the window's queued keys): the same bytes, the same
    per-write changes (undo's records) as the writes one after another, and one write only."""
    ticks = iter(range(100))

    def clock():
        return datetime(2026, 1, 2, 3, 4, next(ticks), tzinfo=UTC)

    sets = [{"a.jpg": False}, {"b.jpg": False, "a.jpg": True}, {"a.jpg": False}, {"c.jpg": True}]
    one_by_one = PromptMetadata.for_actor(catalog, ACTOR, clock=clock)
    one_by_one.set_flags({"c.jpg": False}, curator="bob")
    singles = [one_by_one.decide(flags, curator="alice") for flags in sets]
    expected = stored(one_by_one)

    ticks = iter(range(100))
    merged = PromptMetadata.for_actor(catalog, OTHER_ACTOR, clock=clock)
    merged.set_flags({"c.jpg": False}, curator="bob")
    changes = []
    real_change = catalog.change

    def counted_change(name, apply):
        changes.append(name)
        return real_change(name, apply)

    catalog.change = counted_change  # the read-modify-writes of documents
    each = merged.decide_each(sets, curator="alice")

    assert each == singles
    assert stored(merged) == expected.replace(ACTOR.encode(), OTHER_ACTOR.encode())
    assert changes == [f"actors/{OTHER_ACTOR}/prompt_metadata.json"]
    assert merged.review("a.jpg") == Review("bad", "alice", "2026-01-02T03:04:03.000000")
    assert merged.review("c.jpg") == Review("good", "alice", "2026-01-02T03:04:04.000000")


# -- what earlier reads found valid is not checked again; what someone changed always is -------

MANY = [f"{ACTOR}_{i}.jpg" for i in range(40)]
HOSTILE_EDITS = [
    pytest.param({"good": 1}, id="good-1-equals-true"),  # 1 == True in Python, not in the checks
    pytest.param({"good": 1.0}, id="good-1.0-equals-true"),
    pytest.param({"seed": 5.0}, id="seed-5.0-equals-5"),
    pytest.param({"reviewed_at": "yesterday"}, id="reviewed_at-not-a-timestamp"),
    pytest.param({"reviewed_by": "ann\n"}, id="reviewed_by-control-character"),
    pytest.param(None, id="entry-not-an-object"),
]


def _two_writes(catalog):
    """A catalog that wrote the actor's document twice (so its reads remember valid entries)."""
    from tdm_desktop.core.actors import ActorCatalog

    shared = ActorCatalog(catalog, clock=fixed_clock)
    shared.prompt_metadata(ACTOR).set_flags(dict.fromkeys(MANY, True), curator="ann")
    shared.prompt_metadata(ACTOR).record_generation(MANY[1], prompt="p", seed=5)
    shared.prompt_metadata(ACTOR).set_flags({MANY[2]: False}, curator="ann")
    return shared


def _hostile(metadata, edit) -> bytes:
    """The document with ``MANY[1]``'s entry edited as another curator's tool might."""
    doc = on_disk(metadata)
    if edit is None:
        doc["images"][MANY[1]] = ["not", "an", "object"]
    else:
        doc["images"][MANY[1]].update(edit)
    return json.dumps(doc, indent=2).encode()


def _fresh_error(catalog) -> str:
    """What a reader that remembers nothing says of the stored document."""
    with pytest.raises(PromptMetadataError) as caught:
        PromptMetadata.for_actor(catalog, ACTOR).load()
    return str(caught.value)


@pytest.mark.parametrize("edit", HOSTILE_EDITS)
def test_an_entry_someone_broke_between_two_writes_is_refused_and_nothing_is_written(catalog, edit):
    shared = _two_writes(catalog)
    metadata = shared.prompt_metadata(ACTOR)
    broken = _hostile(metadata, edit)
    put_raw(catalog, metadata.document.name, broken)
    expected = _fresh_error(catalog)

    with pytest.raises(PromptMetadataError) as caught:
        shared.prompt_metadata(ACTOR).set_flags({MANY[3]: False}, curator="bob")

    assert str(caught.value) == expected
    assert f"images[{json.dumps(MANY[1])}]" in expected and "\n" not in expected
    assert stored(metadata) == broken


@pytest.mark.parametrize("edit", HOSTILE_EDITS)
def test_an_entry_someone_broke_during_our_write_in_s3_is_refused_on_the_re_read(s3_client, edit):
    from tdm_desktop.core.actors import ActorCatalog
    from tests.catalogs import ClientWrapper

    documents = S3Documents(s3_client, BUCKET, "team")
    _two_writes(documents)
    metadata = PromptMetadata.for_actor(documents, ACTOR)
    broken = _hostile(metadata, edit)

    class OtherCuratorFirst(ClientWrapper):
        """When armed, someone's write lands between our read and our conditional PUT."""

        armed = False

        def put_object(self, **kwargs):
            if self.armed and "IfMatch" in kwargs:
                self.armed = False
                put_raw(documents, metadata.document.name, broken)
            return self._client.put_object(**kwargs)

    client = OtherCuratorFirst(s3_client)
    shared = ActorCatalog(S3Documents(client, BUCKET, "team"), clock=fixed_clock)
    shared.prompt_metadata(ACTOR).set_flags({MANY[4]: False}, curator="bob")  # remembers all
    client.armed = True
    with pytest.raises(PromptMetadataError) as caught:
        shared.prompt_metadata(ACTOR).set_flags({MANY[3]: False}, curator="bob")

    assert not client.armed  # the other write did land between our read and our write
    assert str(caught.value) == _fresh_error(documents)
    assert stored(metadata) == broken


def test_a_valid_change_someone_made_between_two_writes_is_kept(catalog):
    shared = _two_writes(catalog)
    metadata = shared.prompt_metadata(ACTOR)
    doc = on_disk(metadata)
    doc["images"][MANY[5]] = {"good": False, "reviewed_by": "cy", "reviewed_at": NOW, "x": [1]}
    put_raw(catalog, metadata.document.name, json.dumps(doc).encode())

    shared.prompt_metadata(ACTOR).set_flags({MANY[6]: False}, curator="bob")

    images = on_disk(metadata)["images"]
    assert images[MANY[5]] == {"good": False, "reviewed_by": "cy", "reviewed_at": NOW, "x": [1]}
    assert images[MANY[6]]["reviewed_by"] == "bob"
    assert (
        stored(metadata)
        == (json.dumps(on_disk(metadata), indent=2, ensure_ascii=False) + "\n").encode()
    )


def test_an_invalid_record_our_own_write_put_in_an_entry_is_refused_by_the_next_read(catalog):
    shared = _two_writes(catalog)
    # MANY[2], changed by the last write, is checked by this one's read, then edited in place
    shared.prompt_metadata(ACTOR).restore_entry(MANY[2], {"reviewed_at": "yesterday"})
    expected = _fresh_error(catalog)
    before = stored(shared.prompt_metadata(ACTOR))

    with pytest.raises(PromptMetadataError) as caught:
        shared.prompt_metadata(ACTOR).set_flags({MANY[3]: False}, curator="bob")

    assert str(caught.value) == expected
    assert "reviewed_at must be a timestamp" in expected
    assert stored(shared.prompt_metadata(ACTOR)) == before
