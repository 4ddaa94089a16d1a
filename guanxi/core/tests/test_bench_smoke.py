"""The benchmark harness still works: a toy dataset generates into the test database with
every constraint satisfied, and the list scenario produces the expected JSON. No timing is
asserted here: performance is measured by `python -m bench run`, never by the test suite."""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

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


def test_toy_opportunities_look_service_made(toy):
    """Half an opportunity per account (bench/gen_sales.py), with what the opportunity
    services keep: closing fields, company amounts, stage history, exit criteria of every
    stage left, contacts of the account, search entries, history."""
    from decimal import Decimal

    from bench.gen_sales import OPPORTUNITIES_PER_ACCOUNT
    from guanxi.core.search.registry import registration_for
    from guanxi.sales.models import (
        Opportunity,
        OpportunityCompetitor,
        Pipeline,
        PriceBookEntry,
        Product,
        SalesTarget,
        StageKind,
    )
    from guanxi.sales.services.opportunities import (
        missing_exit_criteria,
        opportunity_move,
        opportunity_win,
        to_company_currency,
    )

    expected = round(60 * OPPORTUNITIES_PER_ACCOUNT)
    assert toy["rows"]["sales_opportunity"] == expected == Opportunity.objects.count()
    assert Product.objects.count() >= 100
    assert PriceBookEntry.objects.filter(price_book__is_default=True).count() == (
        3 * Product.objects.count()
    )
    assert Pipeline.objects.filter(is_active=True).count() == 2
    now = _dataset_now()
    assert SalesTarget.objects.filter(year=now.year, level="company", month=0).exists()
    opportunity_type = ContentType.objects.get_for_model(Opportunity)
    registration = registration_for(Opportunity)
    kinds = set()
    for opportunity in Opportunity.objects.select_related("stage", "owner", "account"):
        stage = opportunity.stage
        kinds.add(stage.kind)
        assert stage.pipeline_id == opportunity.pipeline_id
        assert opportunity.owner_id == opportunity.account.owner_id
        assert opportunity.department_id == opportunity.owner.department_id
        assert opportunity.is_closed == (stage.kind != StageKind.OPEN)
        assert opportunity.is_won == (stage.kind == StageKind.WON)
        assert opportunity.created_at < now
        if opportunity.is_closed:
            assert opportunity.probability == (100 if opportunity.is_won else 0)
            assert opportunity.closed_at == opportunity.stage_entered_at <= now
            assert opportunity.close_date == timezone.localdate(opportunity.closed_at)
            assert (opportunity.lost_reason_id is not None) == (not opportunity.is_won)
        else:
            assert opportunity.closed_at is None and opportunity.close_date is None
            assert opportunity.lost_reason_id is None and opportunity.winner_id is None
        if opportunity.winner_id:
            assert (
                OpportunityCompetitor.objects.get(
                    opportunity=opportunity, competitor_id=opportunity.winner_id
                ).status
                == "won"
            )
        assert opportunity.amount_company == to_company_currency(
            opportunity.amount, opportunity.currency
        )
        lines = list(opportunity.lines.all())
        assert opportunity.amount_from_lines == bool(lines)
        if lines:
            assert opportunity.amount == sum((line.total for line in lines), Decimal("0"))
        for role in opportunity.contact_roles.all():
            assert AccountContact.objects.filter(
                account=opportunity.account_id, contact=role.contact_id
            ).exists()
        if opportunity.contact_roles.exists():
            assert opportunity.contact_roles.filter(is_primary=True).count() == 1
        # One stay per stage, back to back, the last one open and the current stage.
        stays = list(opportunity.stage_history.select_related("stage"))
        assert stays[0].entered_at == opportunity.created_at
        for stay, following in zip(stays, stays[1:], strict=False):
            assert stay.left_at == following.entered_at
            assert stay.entered_at <= following.entered_at
            if stay.stage.kind == StageKind.OPEN and following.stage.kind != StageKind.LOST:
                # The move forward (or the win) found the exit criteria met.
                opportunity.stage = stay.stage
                assert missing_exit_criteria(opportunity) == [], (opportunity.pk, stay.stage)
        opportunity.stage = stage
        assert stays[-1].left_at is None and stays[-1].stage_id == stage.pk
        # How far it got, as the services keep it: the furthest stage stayed in (lost never).
        furthest = max(
            (stay.stage for stay in stays if stay.stage.kind != StageKind.LOST),
            key=lambda visited: visited.sort_order,
        )
        assert opportunity.furthest_stage_id == furthest.pk, opportunity.pk
        # Closed from the last open stage it stayed in.
        open_stays = [stay.stage_id for stay in stays if stay.stage.kind == StageKind.OPEN]
        closed_from = open_stays[-1] if opportunity.is_closed else None
        assert opportunity.closed_from_stage_id == closed_from, opportunity.pk
        assert stays[-1].entered_at == opportunity.stage_entered_at
        entry = SearchEntry.objects.get(content_type=opportunity_type, object_id=opportunity.pk)
        assert entry.document == registration.document_of(opportunity)
        assert entry.subtitle == registration.subtitle_of(opportunity)
    assert {StageKind.OPEN, StageKind.WON, StageKind.LOST} <= kinds
    assert ChangeRecord.objects.filter(content_type=opportunity_type, action="create").count() == (
        expected
    )
    # The services carry on from the generated rows (versions, ids, history).
    opportunity = (
        Opportunity.objects.filter(is_closed=False, stage__sort_order=0)
        .exclude(expected_close_date=None)
        .first()
    )
    if opportunity is not None:
        owner = opportunity.owner
        following = opportunity.pipeline.stages.get(sort_order=1)
        opportunity_move(
            opportunity=opportunity, actor=owner, stage=following, version=opportunity.version
        )
        assert opportunity.stage_history.filter(left_at=None).get().stage == following
    closing = Opportunity.objects.filter(is_closed=False).order_by("-stage__sort_order").first()
    opportunity_win(opportunity=closing, actor=closing.owner, version=closing.version)
    assert closing.is_won and closing.stage_history.filter(left_at=None).count() == 1


def _dataset_now():
    """The generator's "now" (its default `until`)."""
    return timezone.make_aware(
        datetime.datetime.combine(generate.UNTIL_DEFAULT, datetime.time(0)),
        timezone.get_default_timezone(),
    )


def test_sales_can_be_added_to_an_existing_dataset(db, tmp_path, monkeypatch):
    """`generate --add sales`: opportunities for a dataset generated without them."""
    from guanxi.sales.models import Opportunity, StageHistory

    monkeypatch.setattr(generate, "dataset_marker_path", lambda: tmp_path / "marker.json")
    generate.generate(
        size="toy", seed=4, accounts=40, users=4, departments=3, analyze=False,
        entities=["organisation", "customers"], log=lambda message: None,
    )  # fmt: skip
    assert not Opportunity.objects.exists()
    assert "sales" in generate.ADDABLE
    result = generate.add_entities(["sales"], analyze=False, log=lambda message: None)
    assert result["added"]["sales_opportunity"] == 20 == Opportunity.objects.count()
    assert StageHistory.objects.filter(left_at=None).count() == 20
    assert json.loads((tmp_path / "marker.json").read_text())["rows"]["sales_opportunity"] == 20


def test_sales_scenarios_answer_the_expected_json(toy):
    document = runner.run(
        scenario_names=["opportunities", "board", "forecast"],
        roles=["rep", "admin"],
        iterations=2,
        warmup=0,
        write=False,
        cases=["opportunities_list_api", "board_html", "forecast_quarter_html"],
    )
    results = document["results"]
    assert {(row["case"], row["user"]) for row in results} == {
        (case, user)
        for case in ("opportunities_list_api", "board_html", "forecast_quarter_html")
        for user in ("rep", "admin")
    }
    for row in results:
        assert row["status_counts"] == {"200": 2}, row
        assert row["target"] == scenarios.TARGETS[row["scenario"]]["text"]
        assert row["queries_per_request"] > 0
        assert "sales_opportunity" in row["floor_sql"], row["case"]
    assert document["meta"]["dataset"]["opportunities"] == 30
    board = next(row for row in results if row["case"] == "board_html")
    assert board["target"] == "p95 < 150 ms"
    from bench import report

    text = report.render(report.latest_per_dataset([{**document, "_file": "test.json"}]))
    assert "board_html" in text and "30 opportunities" in text


def test_the_command_help_names_every_scenario():
    from bench.__main__ import SCENARIOS_HELP

    assert all(name in SCENARIOS_HELP for name in runner.ALL_SCENARIOS)
