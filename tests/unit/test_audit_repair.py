"""Audit and repair beyond the shared scenarios: the rounding rule, a listing that stops halfway,
uploads still in progress, a repair racing another curator, and the command line's bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.audit import AuditService, FindingKind, Listing, audit
from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.errors import S3Error
from tdm_desktop.core.layout import manifest_name
from tdm_desktop.core.manifest import ManifestEntry, TrainingDataManifest, size_mb
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.repair import Fix, RefusedRepairError, RepairService
from tdm_desktop.core.s3_store import ObjectInfo, S3Store, make_s3_client
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.timestamps import manifest_now
from tdm_desktop.core.upload_journal import UploadIntent, UploadJournal
from tests.catalogs import CATALOG_PREFIX, ClientWrapper
from tests.cli_helpers import error_lines
from tests.conftest import BUCKET
from tests.factories import jpeg_bytes, make_actor

ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"
AWS = f"https://{BUCKET}.s3.amazonaws.com/"
MANIFEST = manifest_name(ACTOR_ID)
WHEN = datetime(2025, 10, 17, 15, 57, tzinfo=UTC)


def name(n: int) -> str:
    return f"{ACTOR}_{n}.jpg"


def entry(n: int, size: float) -> ManifestEntry:
    return ManifestEntry(name(n), AWS + PREFIX + name(n), size, "2025-10-17T15:57:00.000000")


def obj(n: int, size: int, etag: str | None = None) -> ObjectInfo:
    return ObjectInfo(PREFIX + name(n), size, etag or f"etag-{n}", WHEN)


def locate(url: str) -> S3Location:
    return S3Location(BUCKET, url.removeprefix(AWS))


def kinds(report) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(str(finding.kind), set()).add(finding.filename)
    return found


# -- the pure audit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded_mb", "size_bytes", "mismatch"),
    [
        (0.31, 325_059, False),  # 0.31 MiB after rounding
        (0.31, int(0.3149 * 1024 * 1024), False),  # within the rounding
        (0.31, int(0.3151 * 1024 * 1024), True),  # beyond it
        (0.31, int(0.3049 * 1024 * 1024), True),
        (0.0, 100, False),
        (5.0, 0, True),
    ],
)
def test_a_size_mismatch_is_beyond_the_manifests_two_decimal_rounding(
    recorded_mb, size_bytes, mismatch
):
    report = audit(
        ACTOR_ID, ACTOR, [entry(0, recorded_mb)], [], Listing(PREFIX, (obj(0, size_bytes),)), locate
    )
    assert (FindingKind.SIZE_MISMATCH in {f.kind for f in report.findings}) is mismatch
    fixed = size_mb(size_bytes)  # what --fix-sizes records passes the check
    again = audit(
        ACTOR_ID, ACTOR, [entry(0, fixed)], [], Listing(PREFIX, (obj(0, size_bytes),)), locate
    )
    assert again.clean


def test_an_incomplete_listing_reports_no_dangling_entries_and_repair_refuses_it():
    listing = Listing(PREFIX, (obj(0, 10), obj(9, 10)), error="the listing stopped early: x")
    report = audit(ACTOR_ID, ACTOR, [entry(0, 0.0), entry(1, 0.0)], [], listing, locate)
    assert not report.complete and not report.clean
    assert kinds(report) == {"orphan": {name(9)}}  # image 1 may well be on a page not read
    from tdm_desktop.core.repair import plan_repair

    with pytest.raises(RefusedRepairError, match="incomplete"):
        plan_repair(report, {Fix.ADOPT_ORPHANS})


def test_an_upload_in_progress_is_not_repairable_until_abandoned():
    intent = UploadIntent(name(3), PREFIX + name(3), "2025-10-17T15:56:00.000000", "h", 1, "p")
    listing = Listing(PREFIX, (obj(3, 10),))
    live = audit(ACTOR_ID, ACTOR, [], [], listing, locate, {name(3): intent}, lambda i: False)
    (finding,) = live.findings
    assert not finding.repairable and "uploading it right now" in finding.detail
    dead = audit(ACTOR_ID, ACTOR, [], [], listing, locate, {name(3): intent}, lambda i: True)
    (finding,) = dead.findings
    assert finding.repairable and finding.intent == intent
    assert "interrupted" in finding.detail and "next generate" in finding.fix


def test_duplicates_are_entries_with_the_same_etag_and_orphans_are_not_counted():
    listing = Listing(PREFIX, (obj(0, 10, "same"), obj(1, 10, "same"), obj(2, 10, "same")))
    report = audit(ACTOR_ID, ACTOR, [entry(0, 0.0), entry(1, 0.0)], [], listing, locate)
    assert kinds(report) == {"duplicate": {name(1)}, "orphan": {name(2)}}
    (duplicate,) = report.of_kind(FindingKind.DUPLICATE)
    assert name(0) in duplicate.detail and "tdm-desktop delete 0042" in duplicate.fix


def test_an_entry_whose_url_names_another_file_is_foreign_and_its_object_an_orphan():
    wrong = ManifestEntry(name(0), AWS + PREFIX + name(1), 0.0, "2025-10-17T15:57:00.000000")
    report = audit(ACTOR_ID, ACTOR, [wrong], [], Listing(PREFIX, (obj(1, 10),)), locate)
    assert kinds(report) == {"foreign": {name(0)}, "orphan": {name(1)}}


# -- a listing that fails on its second page ----------------------------------------------------


def test_a_listing_that_fails_halfway_makes_the_audit_incomplete(data_dir, aws_env, capsys):
    client = make_s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1")
    store = S3Store(client, BUCKET)
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).create(ACTOR_ID, ACTOR)
    manifest.add_image(name(0), AWS + PREFIX + name(0), 0.0)
    manifest.add_image(name(5), AWS + PREFIX + name(5), 0.0)
    before = manifest.path.read_bytes()
    with Stubber(client) as stub:
        page = {"Key": PREFIX + name(0), "Size": 10, "ETag": '"a"', "LastModified": WHEN}
        stub.add_response(
            "list_objects_v2",
            {"Contents": [page], "IsTruncated": True, "NextContinuationToken": "t"},
        )
        stub.add_client_error("list_objects_v2", "InternalError", http_status_code=500)
        report = AuditService(ActorCatalog(data_dir), store).audit_actor("42")
    assert not report.complete
    assert "stopped early" in report.listing.error and "InternalError" in report.listing.error
    assert [o.key for o in report.listing.objects] == [PREFIX + name(0)]
    assert report.findings == ()  # image 5 may be on the page that failed: not called dangling
    with Stubber(client) as stub:
        stub.add_client_error("list_objects_v2", "SlowDown", http_status_code=503)
        with pytest.raises(RefusedRepairError):
            RepairService(AuditService(ActorCatalog(data_dir), store)).repair(
                "42", {Fix.DROP_DANGLING}
            )
    assert manifest.path.read_bytes() == before


# -- a repair racing another curator -----------------------------------------------------------


class OtherCuratorAfterListing(S3Store):
    """Another curator changes the actor right after the repair's audit listed S3."""

    def __init__(self, client: Any, bucket: str, change) -> None:
        super().__init__(client, bucket)
        self.change = change

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        yield from super().iter_objects(prefix)
        if self.change is not None:
            change, self.change = self.change, None
            change()


def test_a_repair_racing_another_curator_loses_nothing(data_dir, s3_client, store):
    make_actor(data_dir, store, count=3)
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
    for n in (3, 4):  # orphans
        store.put_new(store.key_for(ACTOR, name(n)), jpeg_bytes(n), "image/jpeg")
    document = json.loads(manifest.path.read_text())
    document["training_data"][1]["size_mb"] = 7.0
    manifest.path.write_text(json.dumps(document))
    store.delete_keys([store.key_for(ACTOR, name(2))])  # dangling
    PromptMetadata.for_actor(data_dir, ACTOR).record_generation(name(9), prompt="stale")

    def other_curator() -> None:
        other = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
        other.add_image(name(3), AWS + PREFIX + name(3), 0.5)  # lists an orphan itself
        other.update_sizes({name(1): (7.0, 1.25)})  # sets its own size
        other.remove_image(name(2))  # deletes the dangling entry
        PromptMetadata.for_actor(data_dir, ACTOR).set_flags({name(0): False})

    racing = OtherCuratorAfterListing(s3_client, BUCKET, other_curator)
    outcome = RepairService(AuditService(ActorCatalog(data_dir), racing)).repair(
        ACTOR_ID, {Fix.ADOPT_ORPHANS, Fix.FIX_SIZES, Fix.DROP_DANGLING, Fix.FORGET_STALE}
    )
    assert outcome.complete
    assert {c.filename for c in outcome.done} == {name(4), name(9)}
    assert set(outcome.skipped) == {name(1), name(2), name(3)}
    entries = {e.filename: e for e in manifest.load().get_all_images()}
    assert list(entries) == [name(0), name(1), name(3), name(4)]
    assert entries[name(3)].size_mb == 0.5  # the other curator's entry, not ours
    assert entries[name(1)].size_mb == 1.25  # the other curator's size
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    assert metadata.is_good(name(0)) is False and metadata.generation(name(9)) is None


def test_an_orphan_listed_between_audit_and_delete_is_kept(data_dir, s3_client, store):
    make_actor(data_dir, store, count=1)
    store.put_new(store.key_for(ACTOR, name(1)), jpeg_bytes(1), "image/jpeg")

    def lists_it() -> None:
        TrainingDataManifest.for_actor(data_dir, ACTOR_ID).add_image(
            name(1), AWS + PREFIX + name(1), 0.0
        )

    racing = OtherCuratorAfterListing(s3_client, BUCKET, lists_it)
    outcome = RepairService(AuditService(ActorCatalog(data_dir), racing)).repair(
        ACTOR_ID, {Fix.DELETE_ORPHANS}
    )
    assert outcome.done == [] and name(1) in outcome.skipped
    assert store.get_bytes(store.key_for(ACTOR, name(1))) == jpeg_bytes(1)


def test_an_orphan_a_live_generation_is_uploading_is_never_adopted_or_deleted(data_dir, store):
    make_actor(data_dir, store, count=1)
    store.put_new(store.key_for(ACTOR, name(1)), jpeg_bytes(1), "image/jpeg")
    intent = UploadIntent(
        name(1), PREFIX + name(1), manifest_now(), "another-machine", 4242, prompt="in flight"
    )
    UploadJournal.for_actor(data_dir, ACTOR).begin(intent)
    service = RepairService(AuditService(ActorCatalog(data_dir), store))
    for fix in (Fix.ADOPT_ORPHANS, Fix.DELETE_ORPHANS):
        outcome = service.repair(ACTOR_ID, {fix})
        assert outcome.done == []
    assert [
        e.filename
        for e in TrainingDataManifest.for_actor(data_dir, ACTOR_ID).load().get_all_images()
    ] == [name(0)]
    assert store.get_bytes(store.key_for(ACTOR, name(1))) == jpeg_bytes(1)
    later = lambda: datetime.now(UTC) + timedelta(minutes=11)  # noqa: E731
    old = RepairService(AuditService(ActorCatalog(data_dir), store, clock=later))
    assert [c.filename for c in old.repair(ACTOR_ID, {Fix.ADOPT_ORPHANS}).done] == [name(1)]
    assert PromptMetadata.for_actor(data_dir, ACTOR).generation(name(1))["prompt"] == "in flight"


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("audit",), "audit: give one or more actor IDs, or --all"),
        (("audit", "42", "--all"), "audit: give actor IDs or --all, not both"),
        (("audit", "x"), "actor ID 'x': must be digits"),
        (("audit", "77"), "actor 0077: no manifest at"),
        (("migrate",), "migrate: give one or more actor IDs, or --all"),
        (("repair", "42", "--adopt-orphans", "--delete-orphans", "--yes"), "exclude each other"),
        (("repair", "42", "--delete-orphans"), "add --yes"),
        (("--s3-timeout", "soon", "audit", "42"), "--s3-timeout 'soon': must be a number"),
        (("--s3-timeout", "0", "audit", "42"), "must be between 1 and 3600 seconds"),
    ],
)
def test_bad_input_is_one_line_exit_2(run, data_dir, store, argv, message):
    make_actor(data_dir, store, count=1)
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    (line,) = error_lines(err)
    assert message in line


def test_audit_all_audits_the_others_beside_a_broken_manifest(run, data_dir, store):
    make_actor(data_dir, store, count=2)
    make_actor(data_dir, store, "0107", "0107_japanese_25_female", count=1)
    broken = data_dir / "actor_manifests" / "0213_manifest.json"
    broken.write_text("{ not json")
    store.put_new(store.key_for("0107_japanese_25_female", "extra.jpg"), b"x", "image/jpeg")
    code, out, err = run("audit", "--all")
    assert code == 2
    assert "0042  0042_european_30_male: clean (2 listed, 2 objects in S3)" in out
    assert "0107  0107_japanese_25_female: 1 finding" in out
    assert "3 actors: 1 clean, 1 with findings, 1 not audited (bad input)" in out
    assert error_lines(err) == [
        f"tdm-desktop: actor 0213: {broken}: invalid JSON at line 1, column 3: "
        "Expecting property name enclosed in double quotes"
    ]
    code, out, _err = run("audit", "--all", "--json")
    rows = json.loads(out)
    assert [r["actor_id"] for r in rows] == ["0042", "0107", "0213"]
    assert rows[2]["problem"].startswith(str(broken))
    assert run("audit", "42")[0] == 0


def test_audit_of_a_clean_actor_exits_0(run, data_dir, store):
    make_actor(data_dir, store, count=2)
    code, out, _err = run("audit", "0042")
    assert code == 0 and out == "0042  0042_european_30_male: clean (2 listed, 2 objects in S3)\n"


def test_repair_and_audit_never_touch_another_actors_objects(run, data_dir, store):
    make_actor(data_dir, store, count=1)
    neighbour = "system_actors/training_data/0042_european_30_male_twin/x.jpg"
    store.put_new(neighbour, b"x", "image/jpeg")  # a prefix that only starts like ours
    store.put_new(store.key_for(ACTOR, name(5)), b"y", "image/jpeg")
    code, out, _err = run("audit", "42")
    assert code == 1 and "twin" not in out
    code, _out, _err = run("repair", "42", "--delete-orphans", "--yes")
    assert code == 0
    assert sorted(store.list_keys("system_actors/")) == [store.key_for(ACTOR, name(0)), neighbour]


def test_a_delete_that_s3_refuses_is_reported_and_nothing_else_changes(
    run, data_dir, store, s3_client
):
    from tests.factories import deny_delete

    make_actor(data_dir, store, count=1)
    for n in (1, 2):
        store.put_new(store.key_for(ACTOR, name(n)), jpeg_bytes(n), "image/jpeg")
    deny_delete(s3_client, BUCKET, store.key_for(ACTOR, name(1)))
    code, out, _err = run("repair", "42", "--delete-orphans", "--yes")
    assert code == 1
    assert f"FAILED   {name(1)}: not deleted from S3: AccessDenied" in out
    assert f"done     --delete-orphans: delete s3 object {PREFIX + name(2)}" in out
    assert store.list_keys(PREFIX) == [PREFIX + name(0), PREFIX + name(1)]


def test_s3_error_during_listing_is_not_mistaken_for_an_empty_prefix(data_dir, store):
    make_actor(data_dir, store, count=1)

    class Refuses(S3Store):
        def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
            raise S3Error(prefix, "AccessDenied", "Access Denied")
            yield  # pragma: no cover

    report = AuditService(ActorCatalog(data_dir), Refuses(store._client, BUCKET)).audit_actor("42")
    assert not report.complete and "AccessDenied" in report.listing.error
    assert report.findings == ()


class CuratorBeforeOurPut(ClientWrapper):
    """Right before the repair's conditional PUT of the manifest, another curator writes it: the
    PUT meets a 412 and the repair's change is applied again to what the other curator wrote."""

    def __init__(self, client, other_change) -> None:
        super().__init__(client)
        self._other_change = other_change
        self.conflicted = False

    def put_object(self, **kwargs):
        if not self.conflicted and "IfMatch" in kwargs and kwargs["Key"].endswith(MANIFEST):
            self.conflicted = True
            self._other_change()
        return self._client.put_object(**kwargs)


def test_a_repair_whose_write_meets_another_curators_write_applies_again(s3_client, store):
    other_catalog = S3Documents(s3_client, BUCKET, CATALOG_PREFIX)
    make_actor(other_catalog, store, count=2)
    for n in (5, 6):  # orphans
        store.put_new(store.key_for(ACTOR, name(n)), jpeg_bytes(n), "image/jpeg")

    def other_curator() -> None:  # lists orphan 5 itself, and another image of its own
        other = TrainingDataManifest.for_actor(other_catalog, ACTOR_ID)
        other.add_image(name(5), AWS + PREFIX + name(5), 0.5)
        store.put_new(store.key_for(ACTOR, name(7)), jpeg_bytes(7), "image/jpeg")
        other.add_image(name(7), AWS + PREFIX + name(7), 0.7)

    meddler = CuratorBeforeOurPut(s3_client, other_curator)
    catalog = S3Documents(meddler, BUCKET, CATALOG_PREFIX, sleep=lambda _s: None)
    outcome = RepairService(AuditService(ActorCatalog(catalog), store)).repair(
        ACTOR_ID, {Fix.ADOPT_ORPHANS}
    )
    assert meddler.conflicted and catalog.conflicts == 1
    entries = {
        e.filename: e
        for e in TrainingDataManifest.for_actor(other_catalog, ACTOR_ID).load().get_all_images()
    }
    assert list(entries) == [name(0), name(1), name(5), name(7), name(6)]
    assert entries[name(5)].size_mb == 0.5  # the other curator's entry stays as it wrote it
    assert [c.filename for c in outcome.done] == [name(6)]
    assert name(5) in outcome.skipped


# -- the window's seams: a listing asked to stop, a repair limited to what was confirmed ----------


def test_a_listing_asked_to_stop_raises_and_an_audit_then_gives_no_report(data_dir, store):
    from tdm_desktop.core.audit import AuditCancelledError, list_prefix

    make_actor(data_dir, store, count=3)
    asked = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(AuditCancelledError, match="cancelled"):
        list_prefix(store, PREFIX, stop_after_two)
    assert list_prefix(store, PREFIX, lambda: False).complete
    with pytest.raises(AuditCancelledError):
        AuditService(ActorCatalog(data_dir), store).audit_actor("42", lambda: True)


def test_a_repair_limited_to_some_filenames_leaves_the_other_findings_alone(data_dir, store):
    make_actor(data_dir, store, count=1)
    for n in (5, 6):
        store.put_new(store.key_for(ACTOR, name(n)), jpeg_bytes(n), "image/jpeg")
    service = RepairService(AuditService(ActorCatalog(data_dir), store))
    outcome = service.repair(ACTOR_ID, {Fix.DELETE_ORPHANS}, only={name(5)})
    assert [change.filename for change in outcome.done] == [name(5)]
    assert [f.filename for f in outcome.plan.left_alone] == [name(6)]
    assert store.list_keys(PREFIX) == [PREFIX + name(0), PREFIX + name(6)]
