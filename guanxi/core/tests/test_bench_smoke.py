"""The benchmark harness still works: a toy dataset generates into the test database with
every constraint satisfied, and the list scenario produces the expected JSON. No timing is
asserted here: performance is measured by `python -m bench run`, never by the test suite."""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from bench import generate, runner, scenarios
from guanxi.core.models import ChangeRecord, SearchEntry, User
from guanxi.core.search.selectors import search
from guanxi.customers.duplicates import record_keys
from guanxi.customers.models import Account, AccountContact, Contact, DuplicateKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def toy(db):
    return generate.generate(
        size="toy", seed=3, accounts=60, users=5, departments=3, analyze=False, write_marker=False,
        log=lambda message: None,
    )  # fmt: skip


def test_toy_dataset_looks_service_made(toy):
    assert toy["rows"]["customers_account"] == 60
    assert Account.objects.count() == 60
    assert Contact.objects.count() == 60 * generate.CONTACTS_PER_ACCOUNT
    assert User.objects.count() == 5
    for account in Account.objects.select_related("owner"):
        # Department follows the owner; phone digits are the normalised phone's.
        assert account.department_id == account.owner.department_id
        if account.phone:
            assert account.phone_digits.isdigit()
        if account.kind == Account.Kind.INDIVIDUAL:
            assert account.person_id is not None
        # Links are owned like their account.
        links = AccountContact.objects.filter(account=account)
        assert links.count() == generate.CONTACTS_PER_ACCOUNT
        assert {link.owner_id for link in links} == {account.owner_id}
    account = Account.objects.filter(kind=Account.Kind.COMPANY).exclude(phone="").first()
    account_type = ContentType.objects.get_for_model(Account)
    stored = set(
        DuplicateKey.objects.filter(content_type=account_type, object_id=account.pk).values_list(
            "key", flat=True
        )
    )
    assert stored == record_keys(account)
    assert SearchEntry.objects.filter(content_type=account_type).count() == 60
    assert ChangeRecord.objects.filter(content_type=account_type, action="create").count() == 60
    # The full-text side followed the bulk insert: the phone finds its account.
    admin = User.objects.filter(roles__is_admin=True).first()
    hits = search(user=admin, q=account.phone_digits)
    assert account.pk in [hit.pk for hit in hits if hit.model == "customers.account"]


class _Rollback(Exception):
    pass


def _toy_rows(seed: int) -> list[tuple]:
    """Generate a toy dataset, read it back, and roll it all away."""
    rows: list[tuple] = []
    try:
        with transaction.atomic():
            generate.generate(
                size="toy", seed=seed, accounts=30, users=4, departments=3, analyze=False,
                write_marker=False, log=lambda message: None,
            )  # fmt: skip
            rows = list(
                Account.objects.order_by("created_at").values_list(
                    "name", "phone", "email", "created_at", "owner__username"
                )
            )
            raise _Rollback
    except _Rollback:
        pass
    return rows


def test_generation_is_reproducible_from_the_seed(db):
    first, again, other = _toy_rows(5), _toy_rows(5), _toy_rows(6)
    assert len(first) == 30
    assert first == again
    assert first != other


def test_list_scenario_answers_the_expected_json(toy, tmp_path):
    document = runner.run(
        scenario_names=["list"],
        roles=["rep"],
        iterations=3,
        warmup=0,
        write=False,
        cases=["list_html", "list_api"],
    )
    json.dumps(document)  # serialisable as written to bench/out
    results = document["results"]
    assert {row["case"] for row in results} == {"list_html", "list_api"}
    for row in results:
        assert row["scenario"] == "list"
        assert row["user"] == "rep"
        assert row["status_counts"] == {"200": 3}
        assert row["errors"] == 0
        for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "requests_per_second"):
            assert row[key] >= 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert row["queries_per_request"] > 0
        assert row["floor_p50_ms"] is not None and row["floor_p50_ms"] >= 0
        assert "customers_account" in row["floor_sql"]
        assert row["target"] == scenarios.TARGETS["list"]["text"]
        assert row["pass"] in (True, False)
        for key in ("machine", "commit", "database", "dataset", "accounts"):
            assert key in row
    assert document["meta"]["dataset"]["accounts"] == 60
    # The report renders these rows as a table next to the targets.
    from bench import report

    text = report.render(report.latest_per_dataset([{**document, "_file": "test.json"}]))
    assert "list_html" in text and "p95 < 50 ms" in text


def test_toy_activities_look_service_made(toy):
    """Five activities and two follow-ups per account, with the columns the activities
    services keep (bench/gen_activities.py)."""
    from django.db.models import Max
    from django.utils import timezone

    from bench.gen_activities import ACTIVITIES_PER_ACCOUNT, FOLLOW_UPS_PER_ACCOUNT
    from guanxi.activities.models import Activity, ActivityAssignee, FollowUp

    assert toy["rows"]["activities_activity"] == 60 * ACTIVITIES_PER_ACCOUNT
    assert Activity.objects.count() == 60 * ACTIVITIES_PER_ACCOUNT
    assert FollowUp.objects.count() == 60 * FOLLOW_UPS_PER_ACCOUNT
    account_type = ContentType.objects.get_for_model(Account)
    contact_type = ContentType.objects.get_for_model(Contact)
    accounts = {account.pk: account for account in Account.objects.all()}
    # The dataset's "now", as the generator reckons it.
    now = timezone.make_aware(
        datetime.datetime.combine(generate.UNTIL_DEFAULT, datetime.time(0)),
        timezone.get_default_timezone(),
    )
    kinds, statuses = set(), set()
    for activity in Activity.objects.select_related("owner"):
        account = accounts[activity.account_id]
        assert activity.owner_id == account.owner_id
        assert activity.department_id == activity.owner.department_id
        assert activity.due_at == (activity.end_at or activity.start_at)
        if activity.regarding_type_id == account_type.pk:
            assert activity.regarding_id == account.pk
            assert activity.contact_id == account.person_id
        else:
            assert activity.regarding_type_id == contact_type.pk
            assert activity.contact_id == activity.regarding_id
            assert AccountContact.objects.filter(
                account=account, contact_id=activity.regarding_id
            ).exists()
        if activity.due_at > now:
            assert activity.status != "done"
        if activity.status == "done":
            assert activity.completed_at is not None
        kinds.add(activity.kind)
        statuses.add(activity.status)
    assert {"call", "task", "visit", "meeting"} <= kinds
    assert {"open", "done"} <= statuses
    assert ActivityAssignee.objects.exists() or Activity.objects.count() < 100
    # Follow-ups: the next date made a task on that date; the customer carries the newest
    # follow-up's dates, as follow_up_create keeps them.
    for follow_up in FollowUp.objects.exclude(next_activity=None).select_related("next_activity"):
        assert follow_up.next_activity.start_at == follow_up.next_follow_up_at
        assert follow_up.next_activity.regarding_id == follow_up.regarding_id
        assert follow_up.followed_up_at < now
    newest = FollowUp.objects.values("account_id").annotate(last=Max("followed_up_at"))
    assert len(newest) == 60
    for row in newest:
        account = Account.objects.get(pk=row["account_id"])
        latest = FollowUp.objects.filter(account=account).order_by("-followed_up_at").first()
        assert account.last_followed_up_at == row["last"]
        assert account.next_follow_up_at == latest.next_follow_up_at
    # Searchable and in the history like service-made records.
    activity_type = ContentType.objects.get_for_model(Activity)
    assert (
        SearchEntry.objects.filter(content_type=activity_type).count() == Activity.objects.count()
    )
    assert ChangeRecord.objects.filter(content_type=activity_type, action="create").count() == (
        Activity.objects.count()
    )
    # The explicit ids leave the table usable by the services.
    from guanxi.activities.services import activity_create

    owner = Activity.objects.first().owner
    made = activity_create(actor=owner, data={"subject": "after the generator", "start_at": now})
    assert made.pk > Activity.objects.exclude(pk=made.pk).aggregate(top=Max("pk"))["top"]


def test_calendar_and_activities_scenarios_answer_the_expected_json(toy):
    document = runner.run(
        scenario_names=["calendar", "activities"],
        roles=["rep", "admin"],
        iterations=2,
        warmup=0,
        write=False,
        cases=["calendar_month_api", "activities_list_api"],
    )
    results = document["results"]
    assert {(row["case"], row["user"]) for row in results} == {
        ("calendar_month_api", "rep"),
        ("calendar_month_api", "admin"),
        ("activities_list_api", "rep"),
        ("activities_list_api", "admin"),
    }
    for row in results:
        assert row["status_counts"] == {"200": 2}, row
        assert row["target"] == scenarios.TARGETS["list"]["text"]
        assert "activities_activity" in row["floor_sql"]
    calendar = {row["user"]: row for row in results if row["case"] == "calendar_month_api"}
    assert calendar["rep"]["calendars"] == 1
    assert calendar["rep"]["month"] == "2026-10"
    # Every event the admin's overlay shows is counted; a month of the toy's activities.
    assert calendar["admin"]["events"] > 0
    assert calendar["admin"]["events"] >= calendar["admin"]["owned_events_in_month"]
    from bench import report

    text = report.render(report.latest_per_dataset([{**document, "_file": "test.json"}]))
    assert "calendar_month_api" in text and "events" in text
