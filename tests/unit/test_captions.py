"""Captions: stored as typed in prompt_metadata.json, defaulted from the prompt, exported with
the trigger word by the documented rules."""

from __future__ import annotations

import json

import pytest

from tdm_desktop.core.captions import ActorCaptions, one_line, training_caption
from tdm_desktop.core.errors import BadInputError, PromptMetadataError
from tdm_desktop.core.prompt_metadata import PromptMetadata

ACTOR = "0042_european_30_male"


@pytest.fixture
def metadata(data_dir):
    return PromptMetadata.for_actor(data_dir, ACTOR)


def on_disk(metadata) -> dict:
    return json.loads(metadata.path.read_bytes())


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("a man smiling", "ohwx, a man smiling"),
        ("photo of ohwx, smiling", "photo of ohwx, smiling"),
        ("photo of ohwxyz", "ohwx, photo of ohwxyz"),  # only a whole word counts
        ("[trigger] at the beach", "ohwx at the beach"),
        ("[trigger] and [trigger] again", "ohwx and ohwx again"),
        ("first line\nsecond line\r\n\n  third  ", "ohwx, first line, second line, third"),
        ("[trigger]\nat night", "ohwx, at night"),
        ("", "ohwx"),
        ("   \n ", "ohwx"),
    ],
)
def test_training_caption_rules(caption, expected):
    assert training_caption(caption, "ohwx") == expected


def test_one_line_keeps_a_single_line_as_it_is():
    assert one_line("close-up, laughing") == "close-up, laughing"


def test_a_caption_defaults_to_the_prompt_and_the_trigger_to_the_actor_name(metadata):
    metadata.record_generation("a.jpg", prompt="portrait of a man, smiling", seed=1)
    captions = ActorCaptions.read(metadata, ["a.jpg", "b.jpg"])
    assert captions.trigger_word == ACTOR
    assert captions.caption("a.jpg") == "portrait of a man, smiling"
    assert captions.caption("b.jpg") == ""
    assert captions.training_caption("a.jpg") == f"{ACTOR}, portrait of a man, smiling"
    assert captions.training_caption("b.jpg") == ACTOR


def test_set_caption_stores_it_as_typed_and_returns_the_previous_one(metadata):
    metadata.record_generation("a.jpg", prompt="the prompt", seed=1)
    typed = "[trigger] on a bench\nlooking left, [trigger]"

    assert metadata.set_caption("a.jpg", typed) is None
    assert on_disk(metadata)["images"]["a.jpg"]["caption"] == typed
    assert on_disk(metadata)["images"]["a.jpg"]["prompt"] == "the prompt"
    assert metadata.set_caption("a.jpg", "second") == typed

    # undo: put the previous value back; None goes back to the prompt
    assert metadata.set_caption("a.jpg", typed) == "second"
    assert metadata.set_caption("a.jpg", None) == typed
    assert "caption" not in on_disk(metadata)["images"]["a.jpg"]
    assert ActorCaptions.read(metadata, ["a.jpg"]).caption("a.jpg") == "the prompt"


def test_a_caption_on_an_image_without_entry_leaves_it_unflagged_and_undo_removes_it(metadata):
    assert metadata.set_caption("new.jpg", "x") is None
    assert on_disk(metadata)["images"] == {"new.jpg": {"caption": "x"}}
    assert metadata.is_good("new.jpg")
    assert metadata.set_caption("new.jpg", None) == "x"
    assert on_disk(metadata)["images"] == {}


def test_setting_the_same_caption_writes_nothing(metadata):
    metadata.set_caption("a.jpg", "same")
    before = metadata.path.stat().st_mtime_ns
    assert metadata.set_caption("a.jpg", "same") == "same"
    assert metadata.path.stat().st_mtime_ns == before
    assert metadata.set_caption("never.jpg", None) is None


def test_the_trigger_word_is_stored_at_the_top_and_checked(metadata):
    assert metadata.trigger_word() is None
    assert metadata.set_trigger_word("ohwx") is None
    assert on_disk(metadata)["trigger_word"] == "ohwx"
    assert ActorCaptions.read(metadata, []).trigger_word == "ohwx"
    for bad in ("", " ohwx", "a/b", "two\nlines", "[trigger]"):
        with pytest.raises(BadInputError, match="trigger word"):
            metadata.set_trigger_word(bad)
    assert metadata.set_trigger_word(None) == "ohwx"
    assert "trigger_word" not in on_disk(metadata)


def test_a_file_with_a_bad_caption_or_trigger_word_is_refused_and_kept(metadata):
    metadata.path.parent.mkdir(parents=True)
    for document, problem in (
        ({"images": {"a.jpg": {"caption": 5}}}, 'images["a.jpg"].caption must be a string'),
        ({"trigger_word": "a/b"}, "trigger_word must not contain '/'"),
    ):
        raw = json.dumps(document)
        metadata.path.write_text(raw)
        with pytest.raises(PromptMetadataError, match=problem.replace("[", r"\[")):
            metadata.load()
        with pytest.raises(PromptMetadataError):
            metadata.set_caption("a.jpg", "x")
        assert metadata.path.read_text() == raw
