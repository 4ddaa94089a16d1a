"""Adjustments, targets and snapshots: who may write what, the audit, idempotency."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeRecord
from guanxi.sales.models import ForecastAdjustment, ForecastSnapshot, SalesTarget
from guanxi.sales.services.forecast import (
    can_manage_targets,
    forecast_adjust,
    forecast_snapshot_take,
    target_copy_year,
    target_set,
)
from guanxi.sales.tasks import monday_six_local
from guanxi.sales.tests.test_forecast_selectors import build_deals

pytestmark = pytest.mark.django_db
D = Decimal


def test_only_people_below_may_be_adjusted_and_it_is_audited(org):
    adjustment = forecast_adjust(
        actor=org.manager,
        user=org.rep1,
        period="2026-Q3",
        category="commit",
        amount="5000",
        reason="big order",
    )
    assert adjustment.adjusted_by == org.manager and adjustment.amount == D("5000.00")
    audit = ChangeRecord.objects.get(
        object_id=adjustment.pk, content_type__model="forecastadjustment"
    )
    assert audit.actor == org.manager and "big order" in audit.message
    for actor, user in ((org.rep1, org.rep2), (org.manager, org.rep3), (org.manager, org.manager)):
        with pytest.raises(ActionNotAllowed):
            forecast_adjust(
                actor=actor, user=user, period="2026-Q3", category="commit", amount="1", reason="x"
            )
    for wrong in ({"reason": " "}, {"category": "pipeline"}, {"amount": "-1"}):
        fields = {"period": "2026-Q3", "category": "commit", "amount": "1", "reason": "x"}
        with pytest.raises(ValidationError):
            forecast_adjust(actor=org.manager, user=org.rep1, **{**fields, **wrong})
    assert ForecastAdjustment.objects.count() == 1


def test_target_set_upserts_audits_and_removes(org):
    target = target_set(
        actor=org.admin, year=2026, month=3, level="user", user=org.rep1, amount="1000"
    )
    again = target_set(
        actor=org.admin, year=2026, month=3, level="user", user=org.rep1, amount="1500"
    )
    assert again.pk == target.pk and SalesTarget.objects.get().amount == D("1500.00")
    actions = list(
        ChangeRecord.objects.filter(content_type__model="salestarget")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]
    target_set(actor=org.admin, year=2026, month=3, level="user", user=org.rep1, amount="")
    assert not SalesTarget.objects.exists()
    with pytest.raises(ValidationError):
        target_set(actor=org.admin, year=2026, month=13, level="company", amount="1")
    with pytest.raises(ValidationError):
        target_set(actor=org.admin, year=2026, month=1, level="department", amount="1")


def test_managers_set_targets_for_what_they_manage_only(org):
    assert can_manage_targets(org.admin) and can_manage_targets(org.manager)
    assert not can_manage_targets(org.rep1) and not can_manage_targets(org.finance)
    target_set(
        actor=org.manager, year=2026, month=0, level="department", department=org.east, amount="9"
    )
    target_set(actor=org.manager, year=2026, month=0, level="user", user=org.rep2, amount="9")
    for kwargs in (
        {"level": "company"},
        {"level": "department", "department": org.north},
        {"level": "user", "user": org.rep3},
    ):
        with pytest.raises(ActionNotAllowed):
            target_set(actor=org.manager, year=2026, month=0, amount="1", **kwargs)
    with pytest.raises(ActionNotAllowed):
        target_set(actor=org.rep1, year=2026, month=0, level="user", user=org.rep1, amount="1")


def test_copy_from_last_year_keeps_what_is_set(org):
    target_set(actor=org.admin, year=2025, month=0, level="company", amount="100")
    target_set(actor=org.admin, year=2025, month=1, level="user", user=org.rep1, amount="10")
    target_set(actor=org.admin, year=2026, month=0, level="company", amount="200")
    assert target_copy_year(actor=org.admin, from_year=2025, to_year=2026) == 1
    assert SalesTarget.objects.get(year=2026, level="company").amount == D("200")
    assert SalesTarget.objects.get(year=2026, level="user").amount == D("10")
    # The manager copies only within their reach (north's rep3 stays out).
    target_set(actor=org.admin, year=2025, month=2, level="user", user=org.rep3, amount="5")
    target_set(actor=org.admin, year=2025, month=2, level="user", user=org.rep2, amount="5")
    assert target_copy_year(actor=org.manager, from_year=2025, to_year=2026) == 1
    assert not SalesTarget.objects.filter(year=2026, user=org.rep3).exists()


def test_snapshot_stores_every_level_and_is_idempotent_per_day(org):
    build_deals(org)
    forecast_adjust(
        actor=org.manager,
        user=org.rep2,
        period="2026-Q3",
        category="commit",
        amount="15000",
        reason="PO",
    )
    day = datetime.date(2026, 8, 3)
    count = forecast_snapshot_take(taken_on=day)
    assert count == ForecastSnapshot.objects.filter(taken_on=day).count()
    assert forecast_snapshot_take(taken_on=day) == count
    assert ForecastSnapshot.objects.filter(taken_on=day).count() == count
    rows = ForecastSnapshot.objects.filter(taken_on=day)
    assert set(rows.values_list("period", flat=True)) == {"2026-08", "2026-Q3", "2026"}
    company = rows.get(period="2026-Q3", level="company")
    # The hand-computed company figures, with rep2's commit adjusted from 0 to 15,000.
    assert (
        company.closed_won,
        company.commit,
        company.best_case,
        company.pipeline,
        company.weighted,
    ) == (
        D("175000"),
        D("195000"),
        D("200000"),
        D("210000"),
        D("143000"),
    )
    east = rows.get(period="2026-Q3", level="department", department=org.east)
    assert east.commit == D("135000")
    assert rows.get(period="2026-Q3", level="user", user=org.rep2).commit == D("15000")
    assert rows.get(period="2026-Q3", level="user", user=org.rep1).closed_won == D("110000")
    # Every department; only people with deals (or adjustments) in the period.
    assert rows.filter(period="2026-Q3", level="department").count() == 4
    assert set(
        rows.filter(period="2026-Q3", level="user").values_list("user__username", flat=True)
    ) == {
        "rep1",
        "rep2",
        "rep3",
    }
    forecast_snapshot_take(taken_on=day + datetime.timedelta(days=7))
    assert ForecastSnapshot.objects.filter(period="2026-Q3", level="company").count() == 2


def test_the_weekly_job_runs_monday_six_in_the_local_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # Asia/Shanghai is UTC+8: Monday 06:00 there is Sunday 22:00 UTC.
    assert monday_six_local(datetime.datetime(2026, 8, 2, 22, 0))
    assert not monday_six_local(datetime.datetime(2026, 8, 3, 6, 0))
    assert not monday_six_local(datetime.datetime(2026, 8, 2, 22, 1))
