"""prompt_metadata.json: good/bad flags, generation records, the actor's and default prompts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tdm_desktop.core.errors import BadInputError, InvalidNameError, PromptMetadataError
from tdm_desktop.core.prompt_metadata import (
    PromptMetadata,
    default_prompt_templates,
    fill_prompts,
    parse_actor_name,
)

ACTOR = "0042_european_30_male"


def fixed_clock():
    return datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


@pytest.fixture
def metadata(data_dir):
    return PromptMetadata.for_actor(data_dir, ACTOR, clock=fixed_clock)


def on_disk(metadata):
    return json.loads(metadata.path.read_bytes())


def test_for_actor_path(data_dir):
    path = PromptMetadata.for_actor(data_dir, ACTOR).path
    assert path == data_dir / "actors" / ACTOR / "prompt_metadata.json"
    with pytest.raises(InvalidNameError):
        PromptMetadata.for_actor(data_dir, "../other")


def test_a_missing_file_means_every_image_good_and_the_default_prompts(metadata):
    assert metadata.is_good("anything.jpg")
    assert metadata.flags() == {}
    prompts = metadata.prompts()
    assert len(prompts) == len(default_prompt_templates()) >= 15
    assert prompts[0].startswith("portrait photo of a 30 year old european man, front view")
    assert not metadata.path.exists()


def test_set_flags_writes_the_documented_format(metadata):
    changed = metadata.set_flags({"a.jpg": False, "b.jpg": True})

    assert changed == ["a.jpg"]
    assert on_disk(metadata) == {
        "actor_name": ACTOR,
        "prompts": [],
        "images": {"a.jpg": {"good": False}},
    }
    reread = PromptMetadata(metadata.path, ACTOR)
    assert reread.is_good("a.jpg") is False
    assert reread.is_good("b.jpg") is True
    assert reread.flags() == {"a.jpg": False}


def test_set_flags_writes_only_when_a_flag_changes(metadata):
    assert metadata.set_flags({"a.jpg": True}) == []
    assert metadata.forget(["a.jpg"]) == []
    assert not metadata.path.parent.exists()

    metadata.set_flags({"a.jpg": False})
    before = metadata.path.stat().st_mtime_ns
    assert metadata.set_flags({"a.jpg": False, "b.jpg": True}) == []
    assert metadata.path.stat().st_mtime_ns == before

    assert metadata.set_flags({"a.jpg": True}) == ["a.jpg"]
    assert on_disk(metadata)["images"] == {"a.jpg": {"good": True}}


def test_set_flags_rejects_bad_filenames_and_flags(metadata):
    with pytest.raises(InvalidNameError):
        metadata.set_flags({"../a.jpg": False})
    with pytest.raises(TypeError):
        metadata.set_flags({"a.jpg": "no"})
    assert not metadata.path.exists()


def test_record_generation_keeps_the_flag_and_writes_all_fields(metadata):
    metadata.set_flags({"a.jpg": False})

    metadata.record_generation(
        "a.jpg", prompt="p", seed=7, generator="placeholder", negative_prompt="blurry"
    )
    metadata.record_generation("b.jpg", prompt="q", generated_at="2025-10-17T15:57:00.000Z")

    images = on_disk(metadata)["images"]
    assert images["a.jpg"] == {
        "good": False,
        "prompt": "p",
        "negative_prompt": "blurry",
        "seed": 7,
        "generator": "placeholder",
        "generated_at": "2026-01-02T03:04:05.600000",
    }
    assert images["b.jpg"] == {
        "good": True,
        "prompt": "q",
        "generated_at": "2025-10-17T15:57:00.000Z",
    }
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
    assert not metadata.path.exists()


def test_forget_drops_entries_and_says_which(metadata):
    metadata.set_flags({"a.jpg": False, "b.jpg": False})
    assert metadata.forget(["b.jpg", "zzz.jpg"]) == ["b.jpg"]
    assert on_disk(metadata)["images"] == {"a.jpg": {"good": False}}
    before = metadata.path.read_bytes()
    assert metadata.forget(["zzz.jpg"]) == []
    assert metadata.path.read_bytes() == before


def test_unknown_keys_are_kept(metadata):
    metadata.path.parent.mkdir(parents=True)
    metadata.path.write_text(
        json.dumps(
            {
                "version": 2,
                "actor_name": ACTOR,
                "images": {"a.jpg": {"rating": 5, "good": True}},
                "prompts": ["my prompt"],
                "style": {"cfg": 7},
            }
        )
    )

    metadata.set_flags({"a.jpg": False, "b.jpg": False})

    data = on_disk(metadata)
    assert list(data) == ["version", "actor_name", "images", "prompts", "style"]
    assert data["images"]["a.jpg"] == {"rating": 5, "good": False}
    assert data["style"] == {"cfg": 7}
    assert metadata.prompts() == ["my prompt"]


def test_a_file_without_actor_name_or_images_is_fine(metadata):
    metadata.path.parent.mkdir(parents=True)
    metadata.path.write_text('{"prompts": []}')
    assert metadata.flags() == {}
    assert metadata.prompts()[0].startswith("portrait photo of a 30 year old european man")
    metadata.set_flags({"a.jpg": False})
    assert on_disk(metadata) == {"prompts": [], "images": {"a.jpg": {"good": False}}}


def test_changes_re_read_the_file_so_other_writers_are_kept(data_dir):
    first = PromptMetadata.for_actor(data_dir, ACTOR).load()
    second = PromptMetadata.for_actor(data_dir, ACTOR).load()
    first.set_flags({"a.jpg": False})
    second.set_flags({"b.jpg": False})
    assert on_disk(first)["images"] == {"a.jpg": {"good": False}, "b.jpg": {"good": False}}


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
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_an_invalid_file_names_file_and_field_and_is_never_overwritten(metadata, case):
    content, expected = BAD_FILES[case]
    metadata.path.parent.mkdir(parents=True)
    metadata.path.write_bytes(content)

    for attempt in (
        metadata.load,
        lambda: metadata.set_flags({"x.jpg": False}),
        lambda: metadata.forget(["a.jpg"]),
        lambda: metadata.record_generation("x.jpg", prompt="p"),
    ):
        with pytest.raises(PromptMetadataError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{metadata.path}: ")
        assert expected in message
        assert "\n" not in message

    assert metadata.path.read_bytes() == content


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
