"""Export an actor's training set in a trainer's layout, to a folder or an S3 prefix.

Order of work, so that a refusal leaves nothing behind and a re-run only adds what is new:

1. plan the files (``core.export_layout``) and list the actor's objects in S3 once (sizes, ETags);
2. scan the destination: anything an export of this actor in this layout would not have written
   is "other content" and stops the export before anything is written;
3. an image already there and identical (size, and MD5 where known) is skipped; one that
   differs is kept as it is and reported; the same for each caption (its bytes);
4. the first write goes alone: if the destination refuses it (not writable), the export stops
   with one error and nothing written; then the rest, ``workers`` at a time, each image before
   its caption (a caption is only written beside an image that made it);
5. last, ``metadata.jsonl`` gets one line per image now there that it does not list yet.

An image that cannot be fetched or copied is named in the report and the others go on.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tdm_desktop.core.captions import ActorCaptions
from tdm_desktop.core.errors import ObjectExistsError, TdmError, one_line
from tdm_desktop.core.export_layout import ExportLayout, ExportOptions, PlannedImage, plan_export
from tdm_desktop.core.export_targets import (
    OTHER_SAMPLE,
    ExportDestinationError,
    ExportTarget,
    ExportWriteError,
    refused_write,
)
from tdm_desktop.core.s3_store import TRAINING_DATA_PREFIX, ObjectInfo
from tdm_desktop.core.threads import map_unordered
from tdm_desktop.core.training_data import TrainingDataService

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8


@dataclass
class ExportReport:
    """What an export did. Image outcomes are by filename, file outcomes by destination path."""

    destination: str
    format: str
    planned: int = 0  # images selected for the set
    exported: list[str] = field(default_factory=list)  # images written now
    already_there: list[str] = field(default_factory=list)  # identical images, skipped
    failed: dict[str, str] = field(default_factory=dict)  # image -> why it is not exported
    written: list[str] = field(default_factory=list)  # every path written now
    unchanged: list[str] = field(default_factory=list)  # captions/files identical, skipped
    kept: dict[str, str] = field(default_factory=dict)  # path -> why it was left as it was
    cancelled: list[str] = field(default_factory=list)  # images not started (cancel)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.kept and not self.cancelled


ProgressCallback = Callable[[int, int, str], None]  # (done, total, image filename)


def report_lines(report: ExportReport, include: str) -> list[str]:
    """What an export did, one line each, the summary last (the CLI prints them, the window
    shows them): skipped, kept, failed and cancelled images by name."""
    if report.planned == 0:
        what = "images not flagged bad" if include == "good" else "images"
        return [f"nothing to export: the actor has no {what}; nothing written"]
    lines = []
    if report.already_there:
        names = ", ".join(report.already_there)
        lines.append(f"skipped {len(report.already_there)} already there: {names}")
    lines += [
        f"skipped {path}: already there" for path in report.unchanged if not path.endswith(".txt")
    ]
    lines += [f"KEPT     {path}: {reason}" for path, reason in report.kept.items()]
    lines += [f"FAILED   {name}: {reason}" for name, reason in report.failed.items()]
    if report.cancelled:
        lines.append(f"CANCELLED {len(report.cancelled)} images not started")
    parts = [f"{len(report.exported)} new", f"{len(report.already_there)} already there"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.kept:
        parts.append(f"{len(report.kept)} kept as they were")
    lines.append(
        f"exported {len(report.exported) + len(report.already_there)} of {report.planned} "
        f"images to {report.destination} ({report.format}): {', '.join(parts)}; "
        f"{len(report.written)} files written"
    )
    return lines


class ExportService:
    def __init__(self, service: TrainingDataService, workers: int = DEFAULT_WORKERS) -> None:
        if workers < 1:
            raise ValueError(f"workers {workers}: must be 1 or more")
        self._service = service
        self._workers = workers

    def export(
        self,
        actor_id: str,
        target: ExportTarget,
        options: ExportOptions,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> ExportReport:
        options.check()
        actor = self._service.load_actor(actor_id)
        metadata = self._service.catalog.prompt_metadata(actor.actor_name)
        captions = ActorCaptions.read(metadata, [image.filename for image in actor.images])
        layout = plan_export(actor, captions, options, target.toml_root)
        report = ExportReport(target.label, str(options.format), planned=len(layout.images))
        if not layout.images:
            return report
        prefix = f"{TRAINING_DATA_PREFIX}/{actor.actor_name}/"
        sources = {info.key: info for info in self._service.store.list_objects(prefix)}
        target.prepare()
        scan = target.scan(layout.known_paths)
        if scan.other:
            raise ExportDestinationError(
                f"export destination {target.label}: has other content "
                f"({', '.join(scan.other)}{', ...' if len(scan.other) >= OTHER_SAMPLE else ''}); export "
                f"into an empty folder, or into an earlier {options.format} export of "
                f"{actor.actor_name}"
            )
        run = _ExportRun(target, layout, scan.existing, sources, report, on_progress, should_stop)
        run.images(self._workers)
        run.files()
        _in_plan_order(report, layout)
        log.info(
            "[S3-ONLY] Exported %d images of %s to %s (%s), %d already there, %d failed",
            len(report.exported),
            actor.actor_name,
            target.label,
            options.format,
            len(report.already_there),
            len(report.failed),
        )
        return report


class _ExportRun:
    """One export's bookkeeping; the methods run in the order of the module docstring."""

    def __init__(
        self,
        target: ExportTarget,
        layout: ExportLayout,
        existing: dict[str, ObjectInfo],
        sources: dict[str, ObjectInfo],
        report: ExportReport,
        on_progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self._target = target
        self._layout = layout
        self._existing = existing
        self._sources = sources
        self._report = report
        self._on_progress = on_progress
        self._should_stop = should_stop or (lambda: False)
        self._lock = threading.Lock()
        self._done = 0
        self._present: set[str] = set()  # images in the destination after this run

    def images(self, workers: int) -> None:
        pending = list(self._layout.images)
        # The first write alone: a destination that refuses it stops the export untouched.
        to_write = [p for p in pending if self._needs_a_write(p)]
        while to_write and not self._report.written:
            probe = to_write.pop(0)
            pending.remove(probe)
            self._one(probe, probe=True)
        if pending:
            # daemon threads: a GET that hangs never holds up the end of the process
            for _ in map_unordered(self._one, pending, workers, name="tdm-export"):
                pass

    def _needs_a_write(self, planned: PlannedImage) -> bool:
        paths = [planned.path, planned.caption_path]
        return any(path is not None and path not in self._existing for path in paths)

    def _one(self, planned: PlannedImage, probe: bool = False) -> None:
        name = planned.image.filename
        if self._should_stop():
            with self._lock:
                self._report.cancelled.append(name)
            return
        try:
            if self._image(planned, probe):
                self._caption(planned, probe)
        finally:
            with self._lock:
                self._done += 1
                done = self._done
            if self._on_progress is not None:
                self._on_progress(done, len(self._layout.images), name)

    def _image(self, planned: PlannedImage, probe: bool) -> bool:
        """Write or skip the image; True when it is in the destination afterwards."""
        image, report = planned.image, self._report
        if image.location is None:
            return self._fail(image.filename, f"foreign URL ({image.foreign_reason}): not exported")
        source = self._sources.get(image.location.key)
        if source is None:
            return self._fail(image.filename, f"not in S3 (s3 object {image.location.key!r})")
        there = self._existing.get(planned.path)
        if there is not None:
            if self._target.holds_image(planned.path, there, source):
                with self._lock:
                    report.already_there.append(image.filename)
                    self._present.add(image.filename)
                return True
            self._keep(planned.path, "differs from the image in S3: not overwritten")
            return False
        try:
            self._target.write_image(planned.path, image, source)
        except ObjectExistsError:
            self._keep(planned.path, "appeared while exporting: not overwritten")
            return False
        except (TdmError, OSError) as err:
            if probe and refused_write(err) and not self._report.written:
                raise ExportWriteError(
                    f"export destination {self._target.label}: cannot write: {one_line(err)}"
                ) from None
            return self._fail(image.filename, one_line(err))
        with self._lock:
            report.exported.append(image.filename)
            report.written.append(planned.path)
            self._present.add(image.filename)
        return True

    def _caption(self, planned: PlannedImage, probe: bool) -> None:
        if planned.caption_path is None:
            return
        data = planned.caption.encode("utf-8")
        self._file(planned.caption_path, data, planned.image.filename, probe)

    def _file(self, path: str, data: bytes, image: str | None = None, probe: bool = False) -> None:
        """Create ``path`` with ``data`` unless it exists (identical: skipped; else kept)."""
        if path in self._existing:
            try:
                current, _ = self._target.read(path)
            except (TdmError, OSError) as err:
                self._keep(path, f"exists and cannot be read ({one_line(err)}): not overwritten")
                return
            if current == data:
                with self._lock:
                    self._report.unchanged.append(path)
            else:
                self._keep(path, "differs from what this export writes: not overwritten")
            return
        try:
            self._target.write_new(path, data)
        except ObjectExistsError:
            self._keep(path, "appeared while exporting: not overwritten")
            return
        except (TdmError, OSError) as err:
            if probe and refused_write(err) and not self._report.written:
                raise ExportWriteError(
                    f"export destination {self._target.label}: cannot write: {one_line(err)}"
                ) from None
            if image is not None:
                self._fail(image, f"its caption {path}: {one_line(err)}")
            else:
                self._keep(path, f"not written: {one_line(err)}")
            return
        with self._lock:
            self._report.written.append(path)

    def files(self) -> None:
        """``dataset.toml`` (written once) and ``metadata.jsonl`` (extended)."""
        for path, data in self._layout.files.items():
            self._file(path, data)
        if self._layout.jsonl_path is not None:
            self._jsonl(self._layout.jsonl_path)

    def _jsonl(self, path: str) -> None:
        present = [p for p in self._layout.images if p.image.filename in self._present]
        if path not in self._existing:
            if present:
                self._file(path, b"".join(ExportLayout.jsonl_line(p) for p in present))
            return
        try:
            current, version = self._target.read(path)
            listed = _jsonl_texts(current)
        except (TdmError, OSError, ValueError) as err:
            self._keep(path, f"cannot be extended ({one_line(err)}): kept as it was")
            return
        new_lines = []
        for planned in present:
            name = planned.path.rsplit("/", 1)[-1]
            if name not in listed:
                new_lines.append(ExportLayout.jsonl_line(planned))
            elif listed[name] != planned.caption:
                self._keep(f"{path}: {name}", "its text differs from the caption: kept as it was")
        if not new_lines:
            with self._lock:
                self._report.unchanged.append(path)
            return
        separator = b"" if not current or current.endswith(b"\n") else b"\n"
        try:
            self._target.extend(path, current + separator + b"".join(new_lines), version)
        except (TdmError, OSError) as err:
            self._keep(path, f"not extended ({one_line(err)}): kept as it was")
            return
        with self._lock:
            self._report.written.append(path)

    def _fail(self, image: str, reason: str) -> bool:
        with self._lock:
            self._report.failed[image] = reason
        log.warning("[S3-ONLY] Not exported: %s: %s", image, reason)
        return False

    def _keep(self, path: str, reason: str) -> None:
        with self._lock:
            self._report.kept[path] = reason


def _in_plan_order(report: ExportReport, layout: ExportLayout) -> None:
    """Workers finish in any order; a report reads in manifest order, every time."""
    images = {p.image.filename: i for i, p in enumerate(layout.images)}
    paths: dict[str, int] = {}
    for planned in layout.images:
        for path in (planned.path, planned.caption_path):
            if path is not None:
                paths[path] = len(paths)
    for path in [*layout.files, layout.jsonl_path]:
        if path is not None:
            paths[path] = len(paths)

    def by_image(name: str) -> int:
        return images.get(name, len(images))

    def by_path(path: str) -> tuple[int, str]:
        return paths.get(path, len(paths)), path

    for names in (report.exported, report.already_there, report.cancelled):
        names.sort(key=by_image)
    for chosen in (report.written, report.unchanged):
        chosen.sort(key=by_path)
    report.failed = {k: report.failed[k] for k in sorted(report.failed, key=by_image)}
    report.kept = {k: report.kept[k] for k in sorted(report.kept, key=by_path)}


def _jsonl_texts(data: bytes) -> dict[str, str]:
    """``{file_name: text}`` of a metadata.jsonl; raises ValueError when it is not one."""
    texts = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"line {number} is not JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("file_name"), str):
            raise ValueError(f"line {number} has no file_name")
        texts[row["file_name"]] = row.get("text")
    return texts
