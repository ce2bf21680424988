"""One write of a big actor's prompt_metadata.json: a ``set_flags`` of one image, the render alone
and the check alone, at several sizes, in a folder and (``--s3``) on ``moto_server``.

Each write of the document is a read-modify-write of all of it (``PromptMetadata._change``: parse,
check, apply, render), made here the app's way: ``ActorCatalog.prompt_metadata(name).set_flags``,
a new ``PromptMetadata`` per write as ``TrainingDataService.flag`` makes. Per size, a fresh actor
whose every image is decided (made by the app's own code for one image, then widened to N in the
same shape); one write first (``first_write``: what a catalog that has read nothing yet pays),
then ``--writes`` writes timed (``write``: the median), each changing one image's decision.
``render`` is ``dump_json`` of the document (``json_dumps``: ``json.dumps(indent=2)`` of it in
the same process, for the ratio), ``check`` the validator on it from nothing
(``check_cold``) and, where the code remembers checked entries, with what one read left
(``check_known``). Times are wall (``*_ms``) and this process's CPU (``*_cpu_ms``), medians.

The code measured is whichever ``tdm_desktop`` is imported. ``--before SRC`` also measures the
``tdm_desktop`` in ``SRC`` (e.g. a ``git archive`` of an earlier commit, its ``src``), each run in
a child process, alternating with this one's, ``--runs`` runs each; the last stdout line is one
JSON object with every run and the medians.

    git archive 0ab891a | tar -x -C /tmp/before
    python benchmarks/document_write.py --before /tmp/before/src --s3 [--entries 10000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_common import emit  # noqa: E402
from bench_moto import free_port, start_moto, use_fake_aws  # noqa: E402

use_fake_aws()

BUCKET = "story-boards-assets"
ACTOR = "0951_bench_document"


def _timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _seed(documents, entries: int) -> list[str]:
    from tdm_desktop.core.jsonfile import dump_json
    from tdm_desktop.core.layout import prompt_metadata_name
    from tdm_desktop.core.prompt_metadata import PromptMetadata

    names = [f"{ACTOR}_{i}.jpg" for i in range(entries)]
    PromptMetadata.for_actor(documents, ACTOR).set_flags({names[0]: True}, curator="earlier")
    current = documents.read(prompt_metadata_name(ACTOR))
    doc = json.loads(current.data)
    entry = doc["images"][names[0]]
    doc["images"] = {n: {**entry, "good": i % 3 != 0} for i, n in enumerate(names)}
    documents.write(prompt_metadata_name(ACTOR), dump_json(doc), expected=current.version)
    return names


def measure(documents, entries: int, writes: int) -> dict:
    """The figures of one size in one store (see the module docstring)."""
    import inspect

    from tdm_desktop.core.actors import ActorCatalog
    from tdm_desktop.core.errors import PromptMetadataError
    from tdm_desktop.core.jsonfile import dump_json, parse_json_object
    from tdm_desktop.core.layout import prompt_metadata_name
    from tdm_desktop.core.prompt_metadata import PromptMetadata, _Validator

    names = _seed(documents, entries)
    catalog = ActorCatalog(documents)
    flagged = iter(names[::3])  # decided bad: setting good changes each
    first = _timed(lambda: catalog.prompt_metadata(ACTOR).set_flags({next(flagged): True}))
    times = [
        _timed(lambda: catalog.prompt_metadata(ACTOR).set_flags({next(flagged): True}))
        for _ in range(writes)
    ]
    raw = documents.read(prompt_metadata_name(ACTOR)).data
    data = parse_json_object("bench", raw, PromptMetadataError)
    validator = _Validator("bench", ACTOR)
    result = {
        "entries": entries,
        "bytes": len(raw),
        "first_write_ms": round(first[0], 1),
        "first_write_cpu_ms": round(first[1], 1),
        "write_ms": round(statistics.median(t[0] for t in times), 1),
        "write_cpu_ms": round(statistics.median(t[1] for t in times), 1),
    }
    renders = [_timed(lambda: dump_json(data)) for _ in range(3)]
    result["render_ms"] = round(statistics.median(t[0] for t in renders), 1)
    result["render_cpu_ms"] = round(statistics.median(t[1] for t in renders), 1)
    stdlib = [_timed(lambda: json.dumps(data, indent=2, ensure_ascii=False)) for _ in range(3)]
    result["json_dumps_ms"] = round(statistics.median(t[0] for t in stdlib), 1)
    checks = [_timed(lambda: validator.check(data)) for _ in range(3)]
    result["check_cold_ms"] = round(statistics.median(t[0] for t in checks), 1)
    if "known" in inspect.signature(_Validator.check).parameters:
        from tdm_desktop.core.prompt_metadata import CheckedEntries

        known = CheckedEntries()
        validator.check(data, known)
        checks = [_timed(lambda: validator.check(data, known)) for _ in range(3)]
        result["check_known_ms"] = round(statistics.median(t[0] for t in checks), 1)
    parses = [
        _timed(lambda: parse_json_object("bench", raw, PromptMetadataError)) for _ in range(3)
    ]
    result["parse_ms"] = round(statistics.median(t[0] for t in parses), 1)
    assert PromptMetadata.for_actor(documents, ACTOR).is_good(names[0])
    return result


def child(args: argparse.Namespace) -> dict:
    import tdm_desktop
    from tdm_desktop.core.documents import LocalDocuments, S3Documents
    from tdm_desktop.core.s3_store import make_s3_client

    rows = []
    for entries in map(int, args.entries.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            rows.append(
                {"store": "folder", **measure(LocalDocuments(folder), entries, args.writes)}
            )
        if args.endpoint:
            client = make_s3_client(region="us-east-1", endpoint_url=args.endpoint)
            documents = S3Documents(client, BUCKET, f"bench-{uuid.uuid4().hex}")
            rows.append({"store": "s3", **measure(documents, entries, args.writes)})
    return {"code": str(Path(tdm_desktop.__file__).resolve().parents[1]), "rows": rows}


def _run_child(args: argparse.Namespace, src: str | None, endpoint: str | None) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--child", "--entries", args.entries]
    command += ["--writes", str(args.writes)] + (["--endpoint", endpoint] if endpoint else [])
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="10000,50000,100000")
    parser.add_argument("--writes", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="the src folder of the code to compare with")
    parser.add_argument("--s3", action="store_true", help="also on moto_server")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        emit(child(args))
        return 0
    moto = None
    endpoint = None
    if args.s3:
        port = free_port()
        moto = start_moto(port)
        endpoint = f"http://127.0.0.1:{port}"
        make = __import__("tdm_desktop.core.s3_store", fromlist=["make_s3_client"])
        make.make_s3_client(region="us-east-1", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    codes = {"after": None} if args.before is None else {"before": args.before, "after": None}
    runs: dict[str, list[dict]] = {label: [] for label in codes}
    try:
        for _ in range(args.runs):
            for label, src in codes.items():
                runs[label].append(_run_child(args, src, endpoint))
                print(label, json.dumps(runs[label][-1]), file=sys.stderr, flush=True)
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)
    medians = {}
    for label, results in runs.items():
        for index, row in enumerate(results[0]["rows"]):
            key = f"{label} {row['store']} {row['entries']}"
            rows = [result["rows"][index] for result in results]
            medians[key] = {
                field: statistics.median(r[field] for r in rows)
                for field in row
                if isinstance(row[field], int | float) and field != "entries"
            }
    emit({"benchmark": "document_write", "runs": runs, "medians": medians})
    return 0


if __name__ == "__main__":
    sys.exit(main())
