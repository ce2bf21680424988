"""The demo shows every review feature: seeded into moto, actor 0042 has exactly its planned
near-duplicate pairs, one blurred and one too-small image, curators' captions, a trigger word and
decisions by "demo" (what ``check`` and ``duplicates`` find in it, not what the plan says);
seeding again uploads and changes nothing."""

from __future__ import annotations

from tdm_desktop.core.captions import ActorCaptions
from tdm_desktop.core.image_analysis import ImageAnalysisService
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.demo import DEMO_ACTORS, DEMO_CURATOR, seed_demo
from tdm_desktop.demo_content import SPECIALS
from tdm_desktop.generators.placeholder import PlaceholderGenerator

ACTOR = DEMO_ACTORS[0]


def test_the_demo_actor_has_near_duplicates_problems_captions_and_decisions(data_dir, store):
    assert seed_demo(data_dir, store, PlaceholderGenerator(), [ACTOR]) == ACTOR.image_count
    service = TrainingDataService(data_dir, store)
    name = ACTOR.actor_name

    def n(index: int) -> str:
        return f"{name}_{index}.jpg"

    result = ImageAnalysisService(service, workers=2).analyze_actor(ACTOR.actor_id)
    groups = [set(group.filenames) for group in result.duplicate_groups(10)]
    assert groups == [{n(4), n(5)}, {n(11), n(12)}, {n(19), n(20)}]
    problems = {a.filename: [f.check for f in a.findings()] for a in result.images if a.findings()}
    assert problems == {n(8): ["blurry"], n(15): ["too_small"]}

    metadata = service.prompt_metadata(name)
    captions = ActorCaptions.read(metadata, [n(i) for i in range(ACTOR.image_count)])
    assert captions.trigger_word == "ohwx"
    assert (
        captions.caption(n(2))
        == "[trigger], three-quarter view\nneutral expression, studio lighting"
    )
    assert captions.training_caption(n(2)) == (
        "ohwx, three-quarter view, neutral expression, studio lighting"
    )
    assert captions.caption(n(5)) == captions.caption(n(4))  # a copy keeps its original's prompt
    reviews = metadata.reviews()
    assert {f for f, r in reviews.items() if not r.good} == {n(3), n(10), n(17)}
    assert {f for f, r in reviews.items() if r.good} == {n(0), n(7), n(14), n(21)}
    assert {r.by for r in reviews.values()} == {DEMO_CURATOR}

    files = [
        data_dir / "actor_manifests" / f"{ACTOR.actor_id}_manifest.json",
        data_dir / "actors" / name / "prompt_metadata.json",
    ]
    before = [path.read_bytes() for path in files]
    assert seed_demo(data_dir, store, PlaceholderGenerator(), [ACTOR]) == 0
    assert [path.read_bytes() for path in files] == before


def test_every_demo_actor_s_specials_are_among_its_images():
    for actor in DEMO_ACTORS:
        specials = SPECIALS[actor.actor_id]
        special = [*specials.copies, *specials.blurred, *specials.small]
        assert len(set(special)) == len(special)
        sources = [source for source, _variant in specials.copies.values()]
        assert not set(sources) & set(special)  # an original is no copy, blur or small one
        assert all(0 <= index < actor.image_count for index in [*special, *sources])
        assert all(0 <= index < actor.image_count for index in specials.captions or {})
