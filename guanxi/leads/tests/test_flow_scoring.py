"""Scoring: profile rules on create and edit, engagement events, decay with the half-life,
the score history, MQL/SQL thresholds, accept and reject."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Notification, TimelineEntry
from guanxi.leads.hooks.flow import _on_form_submitted
from guanxi.leads.models import (
    Lead,
    LeadScoreEntry,
    LeadStage,
    ScoringRule,
    ScoringSettings,
)
from guanxi.leads.services import assignment, scoring
from guanxi.leads.services.leads import lead_create, lead_update
from guanxi.leads.tests.factories import make_lead, make_web_form

pytestmark = pytest.mark.django_db


def profile_rule(name, field, op, value, points):
    return ScoringRule.objects.create(
        name=name,
        kind="profile",
        condition={"field": field, "op": op, "value": value},
        points=points,
    )


def engagement_rule(event, points, half_life_days=0, name=None):
    return ScoringRule.objects.create(
        name=name or event,
        kind="engagement",
        event=event,
        points=points,
        half_life_days=half_life_days,
    )


def fresh(lead):
    return Lead.all_objects.get(pk=lead.pk)


def test_profile_rules_score_on_create_and_rescore_on_edit(org):
    profile_rule("Shanghai", "province", "eq", "上海", 20)
    profile_rule("Has e-mail", "email", "set", None, 5)
    profile_rule("Boss", "title", "contains", "总", 10)
    lead = lead_create(actor=org.rep1, data={"name": "王总", "province": "上海", "title": "总经理"})
    assert fresh(lead).score == 30
    entry = LeadScoreEntry.objects.get(lead=lead)
    assert entry.kind == "profile" and entry.points == 30 and entry.score_after == 30
    assert "Shanghai (+20)" in entry.reason and "Boss (+10)" in entry.reason

    lead_update(lead=fresh(lead), actor=org.rep1, data={"province": "北京", "email": "w@x.cn"})
    assert fresh(lead).score == 15
    last = LeadScoreEntry.objects.filter(lead=lead).first()
    assert last.points == -15 and last.score_after == 15

    lead_update(lead=fresh(lead), actor=org.rep1, data={"city": "北京"})  # no scored change
    assert LeadScoreEntry.objects.filter(lead=lead).count() == 2


@pytest.mark.parametrize(
    "op, value, lead_value, holds",
    [
        ("in", "上海, 北京", "北京", True),
        ("in", ["上海"], "广州", False),
        ("ne", "上海", "广州", True),
        ("eq", "上海", "", False),
    ],
)
def test_profile_operators(org, op, value, lead_value, holds):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin, province=lead_value)
    assert scoring.condition_holds({"field": "province", "op": op, "value": value}, lead) is holds


def test_numeric_custom_field_condition(org):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    lead.custom_data = {"employees": 500}
    assert scoring.condition_holds({"field": "custom:employees", "op": "gte", "value": "100"}, lead)
    assert not scoring.condition_holds(
        {"field": "custom:employees", "op": "lte", "value": 100}, lead
    )


def test_engagement_events_add_points_with_reasons(org):
    engagement_rule("email_opened", 5, name="Opened a mail")
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    entries = scoring.lead_engagement_record(lead=lead, event="email_opened")
    scoring.lead_engagement_record(lead=lead, event="email_opened")
    assert len(entries) == 1
    assert fresh(lead).score == 10
    assert [e.score_after for e in LeadScoreEntry.objects.filter(lead=lead).order_by("id")] == [
        5,
        10,
    ]
    assert "Opened a mail" in entries[0].reason
    assert scoring.lead_engagement_record(lead=lead, event="replied") == []  # no rule
    with pytest.raises(ValidationError):
        scoring.lead_engagement_record(lead=lead, event="danced")


def test_crossing_mql_then_sql_moves_the_stage_and_notifies_the_owner(org):
    settings = ScoringSettings.current()
    settings.mql_threshold, settings.sql_threshold = 10, 20
    settings.save()
    engagement_rule("attended", 10)
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    scoring.lead_engagement_record(lead=lead, event="attended")
    lead = fresh(lead)
    assert lead.stage == LeadStage.MQL and lead.mql_at is not None and lead.sql_at is None
    lead_type = ContentType.objects.get_for_model(Lead)
    assert (
        TimelineEntry.objects.filter(
            content_type=lead_type, object_id=lead.pk, kind="lead_stage"
        ).count()
        == 1
    )
    assert not Notification.objects.filter(kind="lead_sql").exists()
    scoring.lead_engagement_record(lead=lead, event="attended")
    lead = fresh(lead)
    assert lead.stage == LeadStage.SQL and lead.sql_at is not None
    assert Notification.objects.filter(recipient=org.rep1, kind="lead_sql").count() == 1


def test_an_unowned_lead_crossing_sql_goes_to_sales_through_the_rules(org):
    settings = ScoringSettings.current()
    settings.mql_threshold, settings.sql_threshold = 5, 10
    settings.save()
    engagement_rule("replied", 10)
    assignment.assignment_rule_save(
        actor=org.admin,
        data={
            "name": "hot leads",
            "action": "user",
            "user": org.rep2,
            "conditions": {"min_score": 10},
        },
    )
    lead = make_lead(owner=None, label="x", actor=org.admin)
    scoring.lead_engagement_record(lead=lead, event="replied")
    lead = fresh(lead)
    assert lead.stage == LeadStage.SQL
    assert lead.owner == org.rep2
    assert Notification.objects.filter(recipient=org.rep2, kind="lead_assigned").exists()


def test_decay_halves_engagement_points_per_half_life_and_explains_it(org):
    rule = engagement_rule("page_visited", 40, half_life_days=10)
    engagement_rule("replied", 6)  # never decays
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    past = timezone.now() - datetime.timedelta(days=10)
    scoring.lead_engagement_record(lead=lead, event="page_visited", occurred_at=past)
    scoring.lead_engagement_record(lead=lead, event="replied", occurred_at=past)
    assert fresh(lead).score == 46
    assert scoring.leads_score_decay() == 1
    assert fresh(lead).score == 26
    decay = LeadScoreEntry.objects.get(lead=lead, kind="decay")
    assert decay.points == -20 and decay.score_after == 26
    assert scoring.leads_score_decay() == 0  # idempotent on the same day
    later = timezone.now() + datetime.timedelta(days=10)
    scoring.leads_score_decay(now=later)
    assert fresh(lead).score == 16
    assert rule.half_life_days == 10


def test_accept_marks_sales_acceptance_and_takes_an_unowned_lead(org):
    lead = make_lead(owner=None, label="x", actor=org.admin)
    scoring.lead_accept(lead=lead, actor=org.admin)
    lead = fresh(lead)
    assert lead.stage == LeadStage.ACCEPTED
    assert lead.accepted_at and lead.sql_at and lead.mql_at
    assert lead.owner == org.admin
    with pytest.raises(ValidationError):
        scoring.lead_accept(lead=lead, actor=org.admin)


def test_accept_by_the_manager_notifies_the_owner(org):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    scoring.lead_accept(lead=lead, actor=org.manager)
    assert Notification.objects.filter(recipient=org.rep1, kind="lead_accepted").exists()


def test_reject_records_the_reason_deducts_the_penalty_and_returns_to_nurturing(org):
    settings = ScoringSettings.current()
    settings.mql_threshold, settings.sql_threshold, settings.rejection_penalty = 10, 20, 15
    settings.save()
    engagement_rule("attended", 30)
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    scoring.lead_engagement_record(lead=lead, event="attended")
    assert fresh(lead).stage == LeadStage.SQL
    with pytest.raises(ValidationError):
        scoring.lead_reject(lead=fresh(lead), actor=org.rep1, reason="  ")
    scoring.lead_reject(lead=fresh(lead), actor=org.rep1, reason="No budget this year")
    lead = fresh(lead)
    assert lead.stage == LeadStage.NURTURING
    assert lead.rejected_reason == "No budget this year"
    assert lead.score == 15
    entry = LeadScoreEntry.objects.filter(lead=lead).first()
    assert entry.kind == "rejection" and entry.points == -15
    assert "No budget this year" in entry.reason
    with pytest.raises(ValidationError):
        scoring.lead_reject(lead=lead, actor=org.rep1, reason="again")


def test_only_who_may_change_the_lead_accepts_or_rejects(org):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    with pytest.raises(ActionNotAllowed):
        scoring.lead_accept(lead=lead, actor=org.rep3)
    with pytest.raises(ActionNotAllowed):
        scoring.lead_accept(lead=lead, actor=org.read_only)


def test_a_web_form_submission_counts_as_form_submitted(org):
    engagement_rule("form_submitted", 7)
    form = make_web_form(actor=org.admin)
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    _on_form_submitted(lead=lead, form=form)
    entry = LeadScoreEntry.objects.get(lead=lead)
    assert entry.event == "form_submitted" and entry.points == 7
    assert form.name in entry.reason


def test_scoring_administration(org):
    with pytest.raises(ActionNotAllowed):
        scoring.scoring_rule_save(
            actor=org.rep1,
            data={"name": "x", "kind": "engagement", "event": "replied", "points": 1},
        )
    with pytest.raises(ValidationError):
        scoring.scoring_rule_save(
            actor=org.admin,
            data={"name": "x", "kind": "profile", "condition": {"field": "nope"}, "points": 1},
        )
    rule = scoring.scoring_rule_save(
        actor=org.admin,
        data={
            "name": "Regions",
            "kind": "profile",
            "condition": {"field": "province", "op": "in", "value": "上海，北京"},
            "points": 3,
        },
    )
    assert rule.condition["value"] == ["上海", "北京"]
    with pytest.raises(ValidationError):
        scoring.scoring_settings_save(
            actor=org.admin, data={"mql_threshold": 90, "sql_threshold": 80}
        )
    saved = scoring.scoring_settings_save(
        actor=org.admin, data={"mql_threshold": 40, "sql_threshold": 70}
    )
    assert ScoringSettings.current().mql_threshold == 40 == saved.mql_threshold


def test_the_daily_decay_runs_at_half_past_two_site_time():
    """Huey hands the schedule a naive UTC time; 02:30 in Shanghai is 18:30 UTC."""
    import datetime

    from guanxi.leads.hooks.flow import leads_score_decay

    task = leads_score_decay.task_class()
    assert task.validate_datetime(datetime.datetime(2025, 3, 1, 18, 30))
    assert not task.validate_datetime(datetime.datetime(2025, 3, 1, 2, 30))
