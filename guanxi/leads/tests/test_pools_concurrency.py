"""Two users claim the same pool record at the same moment: exactly one wins.

Real transactions in two threads (each with its own database connection), on SQLite and on
PostgreSQL (DATABASE_URL).

The SQLite test database lives in shared-cache memory, where a writer that finds the
database busy is refused at once ("database table is locked") instead of waiting as it does
on the real database file (busy_timeout): on SQLite the claim is retried, which is what the
busy timeout does."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from guanxi.core.models import User
from guanxi.leads.models import Lead, PoolEntry, PoolEvent, PoolEventKind
from guanxi.leads.services.pools import pool_claim
from guanxi.leads.tests.factories import make_pool, make_pool_account, make_pool_lead


def _claim(record, actor):
    for _attempt in range(200):
        try:
            return pool_claim(record=record, actor=actor)
        except OperationalError as error:
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            time.sleep(0.01)  # what SQLite's busy timeout does on a database file
    raise AssertionError("the database stayed locked")


def _race(record_getter, users):
    barrier = threading.Barrier(len(users))
    outcomes: dict[str, str] = {}

    def claim(username):
        try:
            actor = User.objects.get(username=username)
            record = record_getter()
            barrier.wait(timeout=10)
            _claim(record, actor)
            outcomes[username] = "won"
        except ValidationError as error:
            outcomes[username] = " ".join(error.messages)
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            outcomes[username] = f"error: {error!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(name,)) for name in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("kind", ["leads", "accounts"])
def test_exactly_one_of_two_concurrent_claimers_wins(seeded, org, kind):
    pool = make_pool(kind=kind, member_departments=[org.east])
    if kind == "leads":
        record = make_pool_lead(owner=None, actor=org.admin, pool=pool)
    else:
        record = make_pool_account(owner=None, actor=org.admin, pool=pool)
    model = type(record)
    outcomes = _race(lambda: model.objects.get(pk=record.pk), ["rep1", "rep2"])
    assert sorted(outcomes.values()) == [
        "This record was already claimed by someone else.",
        "won",
    ], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert model.objects.get(pk=record.pk).owner.username == winner
    assert not PoolEntry.objects.filter(object_id=record.pk).exists()
    assert PoolEvent.objects.filter(object_id=record.pk, kind=PoolEventKind.CLAIM).count() == 1


def test_claims_of_different_records_both_succeed(seeded, org):
    pool = make_pool(kind="leads", member_departments=[org.east])
    first = make_pool_lead(owner=None, actor=org.admin, pool=pool)
    second = make_pool_lead(owner=None, actor=org.admin, pool=pool)
    by_user = {"rep1": first.pk, "rep2": second.pk}
    barrier = threading.Barrier(2)
    outcomes = {}

    def claim(username):
        try:
            actor = User.objects.get(username=username)
            record = Lead.objects.get(pk=by_user[username])
            barrier.wait(timeout=10)
            _claim(record, actor)
            outcomes[username] = "won"
        except Exception as error:  # noqa: BLE001
            outcomes[username] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(name,)) for name in by_user]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"rep1": "won", "rep2": "won"}
