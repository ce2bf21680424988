"""The review commands of ``tdm-desktop``: ``check``, ``duplicates`` and ``export``.

``cli.py`` registers them (``add_commands``) and dispatches to ``COMMANDS``; the work is in
``core/`` (``image_analysis``, ``near_duplicates``, ``quality``, ``export``). Progress goes to
stderr, results to stdout; exit codes as the rest of the CLI (0 done, 1 partly failed, 2 bad
input).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tdm_desktop.core.errors import BadInputError

EXIT_OK, EXIT_FAILED = 0, 1
# The core's defaults, spelled out so that building the parser (every command, --help) imports
# neither numpy nor boto3; tests/unit/test_cli_review.py checks they match core/.
FORMATS = ("ai-toolkit", "kohya", "imagefolder")  # core.export_layout.ExportFormat
INCLUDES = ("good", "all")  # core.export_layout.Include
DEFAULT_REPEATS = 10  # core.export_layout.DEFAULT_REPEATS
DEFAULT_THRESHOLD = 10  # core.near_duplicates.DEFAULT_THRESHOLD
HASH_BITS = 64  # core.near_duplicates.HASH_BITS
DEFAULT_TRAINING_RESOLUTION = 1024  # core.quality.DEFAULT_TRAINING_RESOLUTION
_PROGRESS_EVERY_S = 0.5

CommandFactory = Callable[[str, str], argparse.ArgumentParser]


def add_commands(command: CommandFactory) -> None:
    """Add ``check``, ``duplicates`` and ``export`` through cli.py's ``command(name, help)``."""
    check = command(
        "check",
        "quality checks per image: blurry, too dark/light, low information, odd aspect, too small",
    )
    check.add_argument("actor_id", metavar="ID")
    check.add_argument("--json", action="store_true", help="print JSON (every image, measured)")
    _resolution_option(check, "flag images whose short side is below N pixels")
    _workers_option(check)

    duplicates = command("duplicates", "near-duplicate groups (perceptual hash of every image)")
    duplicates.add_argument("actor_id", metavar="ID")
    duplicates.add_argument("--json", action="store_true", help="print JSON")
    duplicates.add_argument(
        "--threshold",
        type=int,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help=f"most differing hash bits (of {HASH_BITS}) for two images to be near-duplicates "
        f"(default {DEFAULT_THRESHOLD})",
    )
    _workers_option(duplicates)

    export = command(
        "export",
        "export a training set (images + captions in a trainer's layout); never overwrites",
    )
    export.add_argument("actor_id", metavar="ID")
    export.add_argument(
        "--to", required=True, metavar="DIR|s3://BUCKET/PREFIX", help="a folder or an S3 prefix"
    )
    export.add_argument("--format", required=True, choices=FORMATS, help="the layout")
    export.add_argument(
        "--include",
        choices=INCLUDES,
        default=INCLUDES[0],
        help="good: every image not flagged bad (default); all: every image",
    )
    export.add_argument(
        "--trigger",
        metavar="WORD",
        default=None,
        help="trigger word (default: the actor's trigger_word in prompt_metadata.json, "
        "else the actor name)",
    )
    export.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        metavar="N",
        help=f"kohya: repeats in the folder name {{N}}_{{trigger}} {{class}} (default "
        f"{DEFAULT_REPEATS})",
    )
    export.add_argument(
        "--class-token",
        metavar="WORD",
        default=None,
        help="kohya: the class (default: man, woman or person from the actor name)",
    )
    export.add_argument(
        "--toml", action="store_true", help="kohya: also write dataset.toml (--dataset_config)"
    )
    _resolution_option(export, "kohya: the TOML's training resolution")
    _workers_option(export)


def _resolution_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--resolution",
        type=int,
        default=DEFAULT_TRAINING_RESOLUTION,
        metavar="N",
        help=f"{help_text} (default {DEFAULT_TRAINING_RESOLUTION})",
    )


def _workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=int, default=8, metavar="N", help="images fetched at once (default 8)"
    )


class _Progress:
    """``[done/total] what`` on stderr, at most every half second, and always the last one."""

    def __init__(self, verb: str) -> None:
        self._verb = verb
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            if done < total and now - self._last < _PROGRESS_EVERY_S:
                return
            self._last = now
        print(f"{self._verb} [{done}/{total}] {name}", file=sys.stderr, flush=True)


def _analysis(args: argparse.Namespace, verb: str):
    from tdm_desktop.cli import make_service
    from tdm_desktop.core.image_analysis import ImageAnalysisService

    if args.workers < 1:
        raise BadInputError(f"--workers {args.workers}: must be 1 or more")
    progress = _Progress(verb)
    service = ImageAnalysisService(make_service(args), workers=args.workers)
    return service.analyze_actor(
        args.actor_id, on_progress=lambda done, total, a: progress(done, total, a.filename)
    )


# -- check ------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from tdm_desktop.core.quality import QualityThresholds

    if args.resolution < 1:
        raise BadInputError(f"--resolution {args.resolution}: must be 1 or more pixels")
    thresholds = QualityThresholds(training_resolution=args.resolution)
    result = _analysis(args, "checking")
    if args.json:
        print(json.dumps(_check_json(result, thresholds), indent=2))
    else:
        _print_check(result, thresholds)
    return EXIT_FAILED if result.fetch_errors else EXIT_OK


def _check_json(result, thresholds) -> dict[str, Any]:
    rows = []
    for analysis in result.images:
        row: dict[str, Any] = {"filename": analysis.filename}
        if analysis.measures is not None:
            m = analysis.measures
            row.update(
                width=m.width,
                height=m.height,
                sharpness=round(m.sharpness, 1),
                brightness=round(m.brightness, 1),
                entropy=round(m.entropy, 2),
                aspect=round(m.aspect, 3),
            )
        findings = analysis.findings(thresholds)
        messages = analysis.problems(thresholds)
        row["problems"] = [
            {
                "check": finding.check,
                "value": None if analysis.not_an_image else round(finding.value, 2),
                "threshold": None if analysis.not_an_image else finding.threshold,
                "message": message,
            }
            for finding, message in zip(findings, messages, strict=True)
        ]
        row["error"] = analysis.fetch_error
        rows.append(row)
    return {
        "actor_id": result.actor.actor_id,
        "actor_name": result.actor.actor_name,
        "thresholds": thresholds.__dict__,
        "images": rows,
    }


def _print_check(result, thresholds) -> None:
    counts: dict[str, int] = {}
    flagged = 0
    for analysis in result.images:
        findings = analysis.findings(thresholds)
        if not findings:
            continue
        flagged += 1
        for finding in findings:
            counts[finding.check] = counts.get(finding.check, 0) + 1
        print(f"{analysis.filename}  {'; '.join(analysis.problems(thresholds))}")
    for name, reason in result.fetch_errors.items():
        print(f"NOT CHECKED {name}: {reason}")
    total = len(result.images)
    checked = total - len(result.fetch_errors)
    if flagged:
        kinds = ", ".join(f"{n} {check.replace('_', ' ')}" for check, n in counts.items())
        summary = f"{flagged} of {checked} images checked have problems ({kinds})"
    else:
        summary = f"no problems in {checked} images checked"
    if result.fetch_errors:
        summary += f"; {len(result.fetch_errors)} of {total} could not be checked"
    print(summary)


# -- duplicates -------------------------------------------------------------------------------


def cmd_duplicates(args: argparse.Namespace) -> int:
    if not 0 <= args.threshold < HASH_BITS:
        raise BadInputError(f"--threshold {args.threshold}: must be 0..{HASH_BITS - 1} bits")
    result = _analysis(args, "hashing")
    groups = result.duplicate_groups(args.threshold)
    not_images = {a.filename: a.not_an_image for a in result.images if a.not_an_image}
    if args.json:
        print(
            json.dumps(
                {
                    "actor_id": result.actor.actor_id,
                    "actor_name": result.actor.actor_name,
                    "threshold": args.threshold,
                    "groups": [{"group": g.number, "images": list(g.filenames)} for g in groups],
                    "hashes": {
                        a.filename: f"{a.phash:016x}" for a in result.images if a.phash is not None
                    },
                    "not_an_image": not_images,
                    "not_fetched": result.fetch_errors,
                },
                indent=2,
            )
        )
    else:
        for group in groups:
            print(f"group {group.number}: {', '.join(group.filenames)}")
        for name, reason in not_images.items():
            print(f"NOT AN IMAGE {name}: {reason}")
        for name, reason in result.fetch_errors.items():
            print(f"NOT CHECKED {name}: {reason}")
        hashed = sum(1 for a in result.images if a.phash is not None)
        grouped = sum(len(g.filenames) for g in groups)
        if groups:
            summary = f"{len(groups)} groups of near-duplicates ({grouped} images)"
        else:
            summary = "no near-duplicates"
        print(f"{summary} among {hashed} images (threshold {args.threshold} bits)")
    return EXIT_FAILED if result.fetch_errors else EXIT_OK


# -- export -----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from tdm_desktop.cli import make_service
    from tdm_desktop.core.export import report_lines
    from tdm_desktop.core.export_layout import ExportFormat, ExportOptions, Include

    if args.workers < 1:
        raise BadInputError(f"--workers {args.workers}: must be 1 or more")
    options = ExportOptions(
        format=ExportFormat(args.format),
        include=Include(args.include),
        trigger_word=args.trigger,
        repeats=args.repeats,
        class_token=args.class_token,
        toml=args.toml,
        resolution=args.resolution,
    )
    options.check()
    report = make_service(args).export_training_set(
        args.actor_id, args.to, options, on_progress=_Progress("exporting"), workers=args.workers
    )
    print("\n".join(report_lines(report, options.include)))
    return EXIT_OK if report.complete else EXIT_FAILED


COMMANDS = {"check": cmd_check, "duplicates": cmd_duplicates, "export": cmd_export}
