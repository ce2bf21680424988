"""Where an actor's files sit in a data dir: the one home of each path built in more than one place."""

from __future__ import annotations

from tdm_desktop.core.names import check_actor_name


def base_image_relpath(actor_name: str) -> str:
    """``actors/{actor_name}/base_image/{actor_name}_base.png``: the actor's reference image."""
    name = check_actor_name(actor_name)
    return f"actors/{name}/base_image/{name}_base.png"
