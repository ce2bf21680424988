"""The actors of a data dir: one manifest each, in ``actor_manifests/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tdm_desktop.core.errors import ActorNotFoundError, DataFileError
from tdm_desktop.core.layout import base_image_name
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.names import check_actor_name, normalize_actor_id
from tdm_desktop.core.prompt_metadata import PromptMetadata

_MANIFEST_SUFFIX = "_manifest.json"


@dataclass(frozen=True)
class ActorSummary:
    """One row of the actor list. A broken manifest has ``problem`` set."""

    actor_id: str
    actor_name: str
    image_count: int
    problem: str | None = None


class ActorCatalog:
    """Finds actors and their files in a data dir (layout: README.md, "Files in the data dir")."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)

    @property
    def manifests_dir(self) -> Path:
        return self.data_dir / "actor_manifests"

    def manifest_path(self, actor_id: str) -> Path:
        return self.manifests_dir / f"{normalize_actor_id(actor_id)}{_MANIFEST_SUFFIX}"

    def manifest(self, actor_id: str) -> TrainingDataManifest:
        """The actor's manifest, loaded and validated (raises ManifestError, ActorNotFoundError)."""
        actor_id = normalize_actor_id(actor_id)
        path = self.manifest_path(actor_id)
        if not path.exists() and not path.is_symlink():
            # Anything else at the path (a folder, a FIFO) is a broken manifest, named as such
            # by the reader, which never blocks on it.
            raise ActorNotFoundError(f"actor {actor_id}: no manifest at {path}")
        manifest = TrainingDataManifest.for_actor(self.data_dir, actor_id)
        manifest.load()
        return manifest

    def list_actors(self) -> list[ActorSummary]:
        """Every actor, sorted by ID; a broken manifest is listed with its problem, not hidden."""
        if not self.manifests_dir.is_dir():
            return []
        actors = []
        for path in sorted(self.manifests_dir.glob(f"*{_MANIFEST_SUFFIX}")):
            raw_id = path.name[: -len(_MANIFEST_SUFFIX)]
            try:
                actor_id = normalize_actor_id(raw_id)
                if path.name != f"{actor_id}{_MANIFEST_SUFFIX}":
                    raise ValueError
            except ValueError:
                continue  # not one of ours (e.g. "notes_manifest.json")
            try:
                manifest = self.manifest(actor_id)
                actors.append(
                    ActorSummary(actor_id, manifest.character_name, len(manifest.get_all_images()))
                )
            except DataFileError as err:
                actors.append(ActorSummary(actor_id, "", 0, problem=str(err)))
        return actors

    def actor_dir(self, actor_name: str) -> Path:
        return self.data_dir / "actors" / check_actor_name(actor_name)

    def prompt_metadata_path(self, actor_name: str) -> Path:
        return self.actor_dir(actor_name) / "prompt_metadata.json"

    def prompt_metadata(self, actor_name: str) -> PromptMetadata:
        return PromptMetadata.for_actor(self.data_dir, actor_name)

    def base_image_path(self, actor_name: str) -> Path:
        return self.data_dir / base_image_name(actor_name)
