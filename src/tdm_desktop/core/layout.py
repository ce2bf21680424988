"""Where an actor's documents sit inside a data dir: each name built in one place.

::

    actors/{actor_name}/base_image/{actor_name}_base.png
"""

from __future__ import annotations

from tdm_desktop.core.names import check_actor_name

ACTORS_DIR = "actors"
BASE_IMAGE_DIR = "base_image"


def base_image_name(actor_name: str) -> str:
    """``actors/{actor_name}/base_image/{actor_name}_base.png``."""
    name = check_actor_name(actor_name)
    return f"{ACTORS_DIR}/{name}/{BASE_IMAGE_DIR}/{name}_base.png"
