"""The window's contract with the service layer: ``TrainingDataService`` (and the generation it
hands out) offers every call the window makes (``ui/services.py``), taking the same parameters, so
a change on either side that breaks the other fails here rather than in a curator's window."""

from __future__ import annotations

import inspect

from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tdm_desktop.ui.generation.controller import GenerationWork
from tdm_desktop.ui.services import WindowService


def protocol_members(protocol: type) -> dict[str, object]:
    members: dict[str, object] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or not getattr(klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and (callable(value) or isinstance(value, property)):
                members[name] = value
    return members


def missing_parameters(offered: object, wanted: object) -> list[str]:
    """What a call written against ``wanted`` passes that ``offered`` does not take."""
    have = inspect.signature(offered).parameters  # type: ignore[arg-type]
    positional = [n for n, p in have.items() if p.kind is not p.KEYWORD_ONLY]
    problems = []
    for index, (name, param) in enumerate(inspect.signature(wanted).parameters.items()):  # type: ignore[arg-type]
        if name not in have:
            problems.append(f"no parameter {name}")
        elif param.kind is not param.KEYWORD_ONLY and positional[: index + 1][-1:] != [name]:
            problems.append(f"{name} is not at position {index}")
    return problems


def check_offers(implementation: object, protocol: type, *, on_class: bool) -> None:
    members = protocol_members(protocol)
    for name, wanted in members.items():
        offered = inspect.getattr_static(implementation, name, None)
        if offered is None:
            assert not on_class and hasattr(implementation, name), f"no {name}"
            continue  # an instance attribute
        if isinstance(wanted, property):
            assert not callable(offered) or isinstance(offered, property), f"{name}: not a value"
        else:
            assert missing_parameters(offered, wanted) == [], name


def test_the_service_in_use_offers_every_call_of_the_window():
    assert {"list_actors", "load_actor", "watch_actor", "delete_images", "generation"} <= set(
        protocol_members(WindowService)
    )
    check_offers(TrainingDataService, WindowService, on_class=True)


def test_the_generation_it_hands_out_offers_what_the_window_drives(data_dir, store):
    generation = TrainingDataService(data_dir, store).generation(PlaceholderGenerator())
    assert set(protocol_members(GenerationWork)) == {
        "generator",
        "actor_prompts",
        "generate",
        "generate_all",
    }
    check_offers(generation, GenerationWork, on_class=False)
    assert generation.generator.display_name == "placeholder"


def test_the_integrity_it_hands_out_offers_what_check_against_s3_drives(data_dir, store):
    from tdm_desktop.ui.integrity.controller import IntegrityWork

    integrity = TrainingDataService(data_dir, store).integrity()
    assert set(protocol_members(IntegrityWork)) == {"audit", "repair", "migrate", "check_writable"}
    check_offers(integrity, IntegrityWork, on_class=False)
