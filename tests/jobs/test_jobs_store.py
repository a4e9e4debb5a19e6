"""The job store on a SQLite file and on PostgreSQL: life cycle, per-item problems, limits,
quota edges, idempotent results, poison items, retention."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from qinggan.jobs.archive import import_lines
from qinggan.jobs.crypto import encrypt, new_key
from qinggan.jobs.model import (
    InvalidTask,
    ItemProblem,
    JobQuotaExceeded,
    JobStatus,
    TaskItem,
)
from qinggan.jobs.store import JobStore, Outcome
from qinggan.jobs.worker import Worker
from qinggan.labels import Polarity

from .conftest import NEGATIVE, POSITIVE, Clock, archive_lines, org_name

MakeStore = Callable[..., JobStore]


def test_store_full_life_cycle_with_every_item_problem(make_store: MakeStore, analyze: Any) -> None:
    store = make_store(batch_size=4)
    org, key = org_name(), new_key()
    rows = [
        {"msgid": "plain+", "msgtype": "text", "content": POSITIVE},
        {"msgid": "sealed-", "msgtype": "text", "encrypted_content": encrypt(key, NEGATIVE)},
        {"msgid": "neutral", "msgtype": "text", "content": "明天几点开门营业"},
        {"msgid": "wrongkey", "msgtype": "text", "encrypted_content": encrypt(key, POSITIVE)},
        {"msgid": "voice", "msgtype": "voice", "transcript": NEGATIVE},
        {"msgid": "sealed-audio", "msgtype": "audio", "encrypted_transcript": encrypt(key, "好")},
        {"msgid": "mute", "msgtype": "voice"},
        {"msgid": "image", "msgtype": "image"},
        {"msgid": "blank", "msgtype": "text", "content": "   "},
    ]
    import_lines(store, org, [json.dumps(r, ensure_ascii=False) for r in rows])
    items = [
        TaskItem("plain+", "ignored for plaintext"),
        TaskItem("sealed-", key),
        TaskItem("neutral"),
        TaskItem("wrongkey", new_key()),
        TaskItem("voice"),
        TaskItem("sealed-audio", key),
        TaskItem("mute"),
        TaskItem("image"),
        TaskItem("blank"),
        TaskItem("nosuch", key),
    ]
    created = store.create_job(org, items)
    assert (created.total, created.resolved, created.quota_used) == (10, 3, 10)
    view = store.get_job(created.jobid, org=org)
    assert view is not None and view.status is JobStatus.RUNNING
    assert [i.msgid for i in view.items] == [i.msgid for i in items]  # every message, in order
    assert view.items[0].sentiment is None and not view.items[0].resolved
    assert store.get_job(created.jobid, org="someone-else") is None
    holds = {row["msgid"]: row["holds_key"] for row in store.item_audit(created.jobid)}
    assert holds["sealed-"] and not holds["plain+"] and not holds["nosuch"]

    worker = Worker(store, analyze, name="w1")
    worker.run(until_idle=True)
    view = store.get_job(created.jobid)
    assert view is not None and view.status is JobStatus.DONE
    got = {i.msgid: i.sentiment or i.problem for i in view.items}
    assert got == {
        "plain+": Polarity.POSITIVE,
        "sealed-": Polarity.NEGATIVE,
        "neutral": analyze(["明天几点开门营业"])[0].label,  # whatever the engine says
        "wrongkey": ItemProblem.WRONG_KEY,
        "voice": Polarity.NEGATIVE,
        "sealed-audio": Polarity.POSITIVE,
        "mute": ItemProblem.NO_TRANSCRIPT,
        "image": ItemProblem.UNSUPPORTED_TYPE,
        "blank": ItemProblem.UNUSABLE_CONTENT,
        "nosuch": ItemProblem.UNKNOWN_MESSAGE,
    }
    audit = store.item_audit(created.jobid)
    assert not any(row["holds_key"] for row in audit)  # keys are erased with the result
    assert {row["attempts"] for row in audit if row["resolved_by"]} == {1}
    summary = store.summary(created.jobid)
    assert summary is not None and summary.resolved == summary.total == 10
    assert [j.jobid for j in store.list_jobs(org=org)] == [created.jobid]


def test_store_task_limits(make_store: MakeStore) -> None:
    store = make_store()
    org = org_name()
    with pytest.raises(InvalidTask, match="at least one"):
        store.create_job(org, [])
    with pytest.raises(InvalidTask, match="at most 1000"):
        store.create_job(org, [TaskItem(f"m{i}") for i in range(1001)])
    with pytest.raises(InvalidTask, match="distinct"):
        store.create_job(org, [TaskItem("a"), TaskItem("a")])
    created = store.create_job(org, [TaskItem(f"m{i}") for i in range(1000)])
    assert created.total == 1000 and store.quota_used(org) == 1000
    view = store.get_job(created.jobid)
    assert view is not None and view.status is JobStatus.DONE  # all unknown: done at once


def test_store_quota_edge_is_exact_and_survives_restart(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock, daily_quota=1500)
    org = org_name()
    import_lines(store, org, archive_lines(1000))
    store.create_job(org, [TaskItem(f"m{i}") for i in range(1000)])
    store.create_job(org, [TaskItem(f"m{i}") for i in range(499)])
    with pytest.raises(JobQuotaExceeded) as refused:
        store.create_job(org, [TaskItem(f"x{i}") for i in range(2)])
    assert (refused.value.used, refused.value.wanted, refused.value.quota) == (1499, 2, 1500)
    assert store.quota_used(org) == 1499  # nothing of the refused job was counted
    jobs_before = len(store.list_jobs(org=org))
    reopened = make_store(clock, daily_quota=1500)  # counters survive a restart
    reopened.create_job(org, [TaskItem("exactly-the-last-one")])
    assert reopened.quota_used(org) == 1500
    with pytest.raises(JobQuotaExceeded):
        reopened.create_job(org, [TaskItem("one-over")])
    assert len(reopened.list_jobs(org=org)) == jobs_before + 1
    other = org_name()  # quotas are per organisation
    assert reopened.create_job(other, [TaskItem(f"b{i}") for i in range(1000)]).quota_used == 1000
    clock.now += 86400  # a new UTC day
    assert reopened.create_job(org, [TaskItem("tomorrow")]).quota_used == 1


def test_store_results_are_written_once(make_store: MakeStore) -> None:
    store = make_store(batch_size=10)
    org = org_name()
    import_lines(store, org, archive_lines(3))
    created = store.create_job(org, [TaskItem(f"m{i}") for i in range(3)])
    claimed = store.claim("a")
    assert len(claimed) == 3 and store.claim("b") == []  # leased: nobody else gets them
    first = [Outcome(c.id, Polarity.POSITIVE, 0.9) for c in claimed]
    assert store.complete("a", first, [created.jobid]) == 3
    late = [Outcome(c.id, Polarity.NEGATIVE, 0.1) for c in claimed]
    assert store.complete("b", late, [created.jobid]) == 0
    view = store.get_job(created.jobid)
    assert view is not None and view.status is JobStatus.DONE
    assert {i.sentiment for i in view.items} == {Polarity.POSITIVE}


def test_store_expired_lease_and_poison_item(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock, lease_s=10, max_attempts=2, batch_size=10)
    org = org_name()
    import_lines(store, org, archive_lines(2))
    created = store.create_job(org, [TaskItem("m0"), TaskItem("m1")])
    assert len(store.claim("dies")) == 2
    clock.now += 5
    assert store.claim("other") == []
    clock.now += 6  # the lease ran out: claimed again
    again = store.claim("other")
    assert len(again) == 2
    store.complete("other", [Outcome(again[0].id, Polarity.POSITIVE, 0.8)], [created.jobid])
    clock.now += 11  # m1 was claimed twice and never finished: given up
    assert store.claim("third") == []
    view = store.get_job(created.jobid)
    assert view is not None and view.status is JobStatus.FAILED
    assert [i.problem for i in view.items] == [None, ItemProblem.INTERNAL]


def test_store_purge_after_retention(make_store: MakeStore, analyze: Any) -> None:
    clock = Clock()
    store = make_store(clock, retention_days=7)
    org = org_name()
    import_lines(store, org, archive_lines(4))
    old = store.create_job(org, [TaskItem("m0"), TaskItem("m1")])
    Worker(store, analyze).run(until_idle=True)
    clock.now += 6 * 86400
    young = store.create_job(org, [TaskItem("m2")])
    assert store.purge().jobs == 0
    clock.now += 86400 + 1  # the first job is now older than 7 days
    report = store.purge()
    assert (report.jobs, report.items) == (1, 2)
    assert store.get_job(old.jobid) is None
    assert store.get_job(young.jobid) is not None
    assert store.archived(org, "m0") is not None  # the archive itself is kept
    assert store.purge().jobs == 0
