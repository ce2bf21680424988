"""``tdm-desktop``: the command line, a thin shell over ``core/``.

Exit codes: 0 done; 1 the operation failed or partly failed (what did and did not happen is
printed); 2 bad usage or bad input. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tdm_desktop import __version__, cli_integrity, cli_review
from tdm_desktop.core.errors import BadInputError, TdmError, one_line
from tdm_desktop.core.s3_urls import DEFAULT_BUCKET

if TYPE_CHECKING:
    from tdm_desktop.core.documents import DocumentStore, S3Prefix

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_CURATORS = 6  # demo --curators N: windows side by side (the demo has this many names)

log = logging.getLogger("tdm_desktop")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), as every other error of this CLI."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The global options, accepted before or after the command."""

    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--data-dir",
        metavar="DIR|s3://BUCKET/PREFIX",
        default=default(None),
        help="data dir holding actor_manifests/ and actors/: a folder or an S3 prefix shared by a "
        "team (default: $TDM_DATA_DIR or ./data; demo keeps its own in the local S3)",
    )
    parser.add_argument(
        "--bucket",
        default=default(None),
        help=f"S3 bucket of the images (default: $TDM_BUCKET or {DEFAULT_BUCKET}); an s3:// "
        "data dir names its own",
    )
    parser.add_argument(
        "--endpoint-url",
        default=default(None),
        help="S3 endpoint URL (default: boto3's chain: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, AWS)",
    )
    parser.add_argument(
        "--profile", default=default(None), help="AWS profile (default: $AWS_PROFILE)"
    )
    parser.add_argument(
        "--s3-timeout",
        metavar="SECONDS",
        default=default(None),
        help="longest one S3 request may take, retries included; a command stops asking S3 "
        "after one timed out (default: $TDM_S3_TIMEOUT or 60)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="more log output (-vv for boto3 too)",
    )


def _curator_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_CURATORS:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number from 1 to {MAX_CURATORS}")
    return count


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _global_options(common, defaults=False)
    parser = _Parser(
        prog="tdm-desktop",
        description="Training Data Manager: curate AI-actor training images that live only in S3.",
        epilog="With no command, opens the window. Exit codes: 0 done, 1 failed or partly failed, "
        "2 bad usage or bad input.",
    )
    parser.add_argument("--version", action="version", version=f"tdm-desktop {__version__}")
    _global_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    gui = command("gui", "open the window (the default command)")
    gui.add_argument("--actor", metavar="ID", help="open this actor (e.g. 0042 or 42)")

    demo = command(
        "demo",
        "start the bundled local S3, seed demo actors and open the window on them (catalog and "
        "images both in the local S3; the catalog at s3://BUCKET/catalog unless --data-dir)",
    )
    demo.add_argument("--port", type=int, default=None, help="local S3 port (default 8333)")
    demo.add_argument(
        "--curators",
        type=_curator_count,
        default=1,
        metavar="N",
        help="open N windows side by side as N curators (alice, bob, ...) on the same catalog, "
        f"each with its own settings; a flag in one shows in the others (1 to {MAX_CURATORS}, "
        "default 1)",
    )
    demo.add_argument(
        "--no-window",
        action="store_true",
        help="seed and serve only; print how to use the CLI and wait for Ctrl+C",
    )

    local = command("local-s3", "run the bundled local S3 (SeaweedFS) in the foreground")
    local.add_argument("--dir", type=Path, default=None, help="where it keeps its data")
    local.add_argument("--port", type=int, default=None, help="S3 port (default 8333)")

    catalog = command(
        "catalog", "a whole catalog: `catalog copy SRC DST` between a folder and an S3 prefix"
    )
    catalog_commands = catalog.add_subparsers(
        dest="catalog_command", metavar="SUBCOMMAND", required=True, parser_class=_Parser
    )
    copy = catalog_commands.add_parser(
        "copy",
        help="copy a catalog between a folder and an S3 prefix, never overwriting",
        description="Copy the catalog's documents (manifests, prompt metadata, base images) from "
        "SRC to DST, each a folder or s3://bucket/prefix. Nothing at DST is ever overwritten: a "
        "document already there with the same bytes is skipped quietly, one with other bytes is "
        "reported and skipped. The images are not copied; they stay where their URLs point.",
        parents=[common],
    )
    copy.add_argument("source", metavar="SRC")
    copy.add_argument("target", metavar="DST")

    actors = command("actors", "list the actors with their image counts")
    actors.add_argument("--json", action="store_true", help="print JSON")

    training = command("training-data", "print an actor's training data as the seed's API JSON")
    training.add_argument("actor_id", metavar="ID")

    mark = command("mark", "flag images good or bad")
    mark.add_argument("actor_id", metavar="ID")
    mark.add_argument("filenames", metavar="FILENAME", nargs="+")
    flag = mark.add_mutually_exclusive_group(required=True)
    flag.add_argument("--good", dest="good", action="store_true", default=None)
    flag.add_argument("--bad", dest="good", action="store_false")

    delete = command("delete", "delete images from S3 and the manifest")
    delete.add_argument("actor_id", metavar="ID")
    delete.add_argument("filenames", metavar="FILENAME", nargs="+")

    delete_all = command("delete-all", "delete all of an actor's images from S3 and the manifest")
    delete_all.add_argument("actor_id", metavar="ID")
    delete_all.add_argument("--yes", action="store_true", help="really delete (required)")

    generate = command("generate", "generate images, upload them straight to S3 and record them")
    generate.add_argument("actor_id", metavar="ID")
    what = generate.add_mutually_exclusive_group(required=True)
    what.add_argument("--prompt", metavar="TEXT", help="generate one image from this prompt")
    what.add_argument("--all", action="store_true", help="one image per prompt of the actor")
    generate.add_argument(
        "--generator",
        default=None,
        help="placeholder or a1111 (default: $TDM_GENERATOR or placeholder)",
    )
    generate.add_argument(
        "--seed", type=int, default=None, help="seed (default: chosen per image by the generator)"
    )
    generate.add_argument(
        "--concurrency", type=int, default=1, help="images generated at once (default 1)"
    )
    cli_integrity.add_commands(command)
    cli_review.add_commands(command)
    return parser


# -- configuration ----------------------------------------------------------------------------


def data_dir_of(args: argparse.Namespace) -> Path | S3Prefix:
    """The data dir: ``--data-dir``, else ``$TDM_DATA_DIR``, else ``./data``; a folder or an
    ``s3://bucket/prefix`` (a malformed URL is bad input, exit 2)."""
    from tdm_desktop.core.documents import parse_data_dir

    return parse_data_dir(args.data_dir or os.environ.get("TDM_DATA_DIR") or "data")


def curator_of() -> str:
    """Whose decisions the flags record: ``$TDM_CURATOR``, else the OS user name (the window puts
    a name set in its Settings between the two)."""
    from tdm_desktop.core.curators import choose_curator

    return choose_curator(os.environ).name


def bucket_of(args: argparse.Namespace) -> str:
    return args.bucket or os.environ.get("TDM_BUCKET") or DEFAULT_BUCKET


def make_store(args: argparse.Namespace, **client_options):
    """The S3 store from boto3's own credential and endpoint chain plus the global options."""
    import botocore.exceptions

    from tdm_desktop.core.s3_store import S3Store, make_s3_client
    from tdm_desktop.core.s3_timeouts import ENV_VAR, S3Timeouts

    if args.s3_timeout is not None:
        timeouts = S3Timeouts.parse(args.s3_timeout, "--s3-timeout")
    else:
        timeouts = S3Timeouts.parse(os.environ.get(ENV_VAR), ENV_VAR)
    # A command stops asking an S3 that let a request time out; the window keeps trying.
    client_options.setdefault("stop_after_timeout", args.command not in (None, "gui"))
    try:
        client = make_s3_client(
            endpoint_url=args.endpoint_url,
            profile=args.profile,
            timeouts=timeouts,
            **client_options,
        )
    except botocore.exceptions.ProfileNotFound as err:
        raise BadInputError(f"AWS profile {err.kwargs.get('profile')!r} not found") from None
    except ValueError as err:  # e.g. "Invalid endpoint: foo" from --endpoint-url or the env
        raise BadInputError(f"S3 endpoint: {err} (expected e.g. http://127.0.0.1:8333)") from None
    return S3Store(client, bucket_of(args))


def open_catalog(where: Path | S3Prefix, store) -> DocumentStore:
    """The document store of a data dir; an S3 one goes through ``store``'s client."""
    from tdm_desktop.core.documents import LocalDocuments, S3Documents

    if isinstance(where, Path):
        return LocalDocuments(where)
    return S3Documents.at(store.client, where)


def make_service(args: argparse.Namespace):
    from tdm_desktop.core.training_data import TrainingDataService

    where = data_dir_of(args)
    store = make_store(args)
    return TrainingDataService(open_catalog(where, store), store, curator=curator_of())


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


@contextlib.contextmanager
def _logging_to_stderr(verbose: int):
    """The design's ``[S3-ONLY]`` lines (INFO) on stderr while a command runs; -v adds DEBUG,
    -vv boto3's too."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    loggers = [logging.getLogger("tdm_desktop")]
    if verbose > 1:
        loggers.append(logging.getLogger("botocore"))
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


# -- commands ---------------------------------------------------------------------------------


def cmd_actors(args: argparse.Namespace) -> int:
    from tdm_desktop.core.actors import ActorCatalog

    where = data_dir_of(args)
    if isinstance(where, Path) and not where.is_dir():
        raise BadInputError(
            f"data dir {where}: not found (set --data-dir or TDM_DATA_DIR; "
            "`tdm-desktop demo` prints the demo's)"
        )
    catalog = ActorCatalog(open_catalog(where, make_store(args)))
    actors = catalog.list_actors()
    if args.json:
        print(json.dumps([a.__dict__ for a in actors], indent=2))
    else:
        if not actors:
            print(f"no actors in {catalog.manifests_location}")
        for actor in actors:
            if actor.problem is None:
                print(f"{actor.actor_id}  {actor.actor_name}  {actor.image_count} images")
    broken = [a for a in actors if a.problem is not None]
    for actor in broken:
        print(f"tdm-desktop: actor {actor.actor_id} is broken: {actor.problem}", file=sys.stderr)
    return EXIT_FAILED if broken else EXIT_OK


def cmd_training_data(args: argparse.Namespace) -> int:
    print(json.dumps(make_service(args).get_training_data(args.actor_id), indent=2))
    return EXIT_OK


def cmd_mark(args: argparse.Namespace) -> int:
    service = make_service(args)
    service.mark(args.actor_id, args.filenames, args.good)
    word = "good" if args.good else "bad"
    print(f"marked {len(set(args.filenames))} image(s) {word}")
    return EXIT_OK


def _report_delete(outcome) -> int:
    for name in outcome.deleted:
        print(f"deleted  {name}")
    for name, reason in {**outcome.failed, **outcome.refused}.items():
        print(f"KEPT     {name}: {reason}")
    for name, reason in outcome.unlisted_failed.items():
        print(f"LISTED   {name}: {reason}")
    kept = len(outcome.failed) + len(outcome.refused)
    summary = f"{len(outcome.deleted)} deleted from S3 and the manifest, {kept} kept"
    if outcome.unlisted_failed:
        summary += f", {len(outcome.unlisted_failed)} gone from S3 but still listed"
    print(summary)
    return EXIT_OK if outcome.complete else EXIT_FAILED


def cmd_delete(args: argparse.Namespace) -> int:
    return _report_delete(make_service(args).delete_images(args.actor_id, args.filenames))


def cmd_delete_all(args: argparse.Namespace) -> int:
    service = make_service(args)
    if not args.yes:
        manifest = service.catalog.manifest(args.actor_id)
        raise BadInputError(
            f"delete-all: would delete all {len(manifest.get_all_images())} images of "
            f"{manifest.character_name}; add --yes to do it"
        )
    return _report_delete(service.delete_all(args.actor_id))


def cmd_generate(args: argparse.Namespace) -> int:
    from tdm_desktop.generators import get_generator

    if args.concurrency < 1:
        raise BadInputError(f"--concurrency {args.concurrency}: must be 1 or more")
    generator = get_generator(args.generator)
    generation = make_service(args).generation(generator)
    if args.prompt is not None:
        image = generation.generate(args.actor_id, args.prompt, seed=args.seed)
        print(
            f"generated {image.filename} ({image.size_mb} MB, seed {image.seed}) -> {image.s3_url}"
        )
        return _report_unrecorded([image])
    prompts = generation.actor_prompts(args.actor_id)

    def progress(done, failed, total, last):
        what = f"{last.filename} ({last.size_mb} MB)" if last is not None else "failed"
        print(f"[{done + failed}/{total}] {what}", flush=True)

    report = generation.generate_all(
        args.actor_id,
        prompts,
        seed=args.seed,
        concurrency=args.concurrency,
        on_progress=progress,
    )
    for prompt, message in report.failed:
        print(f"FAILED   {prompt!r}: {message}")
    print(f"{report.summary()} with {generator.name}")
    unrecorded = _report_unrecorded(report.generated)
    return EXIT_FAILED if report.failed else unrecorded


def _report_unrecorded(images) -> int:
    """An image in S3 and the manifest whose prompt and seed could not be recorded is a partial
    failure: say which, exit 1."""
    missing = [image for image in images if image.metadata_error]
    for image in missing:
        print(f"NOT RECORDED {image.filename}: prompt metadata: {image.metadata_error}")
    return EXIT_FAILED if missing else EXIT_OK


def cmd_catalog(args: argparse.Namespace) -> int:
    from tdm_desktop.core.catalog_copy import copy_catalog
    from tdm_desktop.core.documents import parse_data_dir

    source_at, target_at = parse_data_dir(args.source), parse_data_dir(args.target)
    if isinstance(source_at, Path) and not source_at.is_dir():
        raise BadInputError(f"catalog copy: source {source_at}: no such folder")
    needs_s3 = not (isinstance(source_at, Path) and isinstance(target_at, Path))
    store = make_store(args) if needs_s3 else None
    source, target = open_catalog(source_at, store), open_catalog(target_at, store)

    def progress(done: int, total: int, name: str, outcome: str) -> None:
        print(f"[{done}/{total}] {outcome}: {name}", file=sys.stderr, flush=True)

    report = copy_catalog(source, target, on_progress=progress)
    for name in report.different:
        print(f"SKIPPED  {target.url(name)}: a different document is already there (kept)")
    for name, reason in report.failed.items():
        print(f"FAILED   {name}: {reason}")
    print(f"{source.location} -> {target.location}: {report.summary()}")
    return EXIT_OK if report.complete else EXIT_FAILED


def cmd_local_s3(args: argparse.Namespace) -> int:
    from tdm_desktop import local_s3

    return local_s3.run_foreground(
        data_dir=args.dir or local_s3.default_data_dir(),
        port=args.port,
        bucket=bucket_of(args),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from tdm_desktop import demo

    return demo.run_demo(
        data_dir=data_dir_of(args) if args.data_dir else None,
        curator=curator_of(),
        curators=args.curators,
        port=args.port,
        bucket=bucket_of(args),
        open_window=not args.no_window,
    )


def cmd_gui(args: argparse.Namespace) -> int:
    from tdm_desktop.core.data_dirs import given_data_dir
    from tdm_desktop.core.documents import parse_data_dir
    from tdm_desktop.core.training_data import TrainingDataService
    from tdm_desktop.ui.app import WindowPlan, run_windows

    given = given_data_dir(args.data_dir, os.environ)  # else the one in Settings, else ./data
    store = make_store(args)
    curator = curator_of()

    def open_at(location: str) -> TrainingDataService:
        where = open_catalog(parse_data_dir(location), store)
        return TrainingDataService(where, store, curator=curator)

    plan = WindowPlan(open_at, data_dir=given)
    return run_windows([plan], actor_id=getattr(args, "actor", None))


COMMANDS = {
    None: cmd_gui,
    "gui": cmd_gui,
    "demo": cmd_demo,
    "local-s3": cmd_local_s3,
    "catalog": cmd_catalog,
    "actors": cmd_actors,
    "training-data": cmd_training_data,
    "mark": cmd_mark,
    "delete": cmd_delete,
    "delete-all": cmd_delete_all,
    "generate": cmd_generate,
    **cli_integrity.COMMANDS,
    **cli_review.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version, bad usage: already printed
        return int(exit_.code or 0)
    try:
        with _logging_to_stderr(args.verbose):
            return COMMANDS[args.command](args)
    except BadInputError as err:
        print(f"tdm-desktop: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except TdmError as err:
        print(f"tdm-desktop: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("tdm-desktop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tdm-desktop training-data 42 | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as err:  # the edge: one line, never a traceback (-v logs it)
        log.debug("unexpected error", exc_info=True)
        print(f"tdm-desktop: unexpected error: {one_line(err)}", file=sys.stderr)
        return EXIT_FAILED
