"""Assignment rules: conditions, order, actions (person, round-robin, pool), capacity,
notifications, timeline and audit, and the administrator's rule services."""

import pytest
from django.contrib.contenttypes.models import ContentType

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    Notification,
    PicklistOption,
    TimelineEntry,
)
from guanxi.core.tests.factories import picklist_option as option
from guanxi.leads.models import (
    AssignmentRule,
    Lead,
    LeadCapacity,
    LeadStatus,
    PoolEntry,
    PoolEvent,
    PoolEventKind,
)
from guanxi.leads.services import assignment
from guanxi.leads.services.leads import lead_create
from guanxi.leads.tests.factories import make_lead, make_pool, make_web_form

pytestmark = pytest.mark.django_db


def rule(org, name="rule", action="user", members=(), **data):
    data.setdefault("conditions", {})
    return assignment.assignment_rule_save(
        actor=org.admin, data={"name": name, "action": action, **data}, members=list(members)
    )


def new_lead(org, **data):
    """An unowned lead created through the service: the created-hooks run."""
    lead = lead_create(actor=org.admin, data={"name": "张伟", "owner": None, **data}, origin="api")
    lead.refresh_from_db()
    return lead


def test_a_person_rule_assigns_notifies_and_writes_timeline_and_audit(org):
    rule(org, "Everything to rep1", user=org.rep1)
    lead = new_lead(org, company="上海电子")
    assert lead.owner == org.rep1
    assert lead.department == org.east
    assert lead.assigned_at is not None
    notification = Notification.objects.get(recipient=org.rep1, kind="lead_assigned")
    assert "Everything to rep1" in notification.text
    lead_type = ContentType.objects.get_for_model(Lead)
    assert TimelineEntry.objects.filter(
        content_type=lead_type, object_id=lead.pk, kind="owner_changed"
    ).exists()
    assert ChangeRecord.objects.filter(
        content_type=lead_type, object_id=lead.pk, action=ChangeAction.ASSIGN
    ).exists()


def test_a_lead_created_with_an_owner_is_left_alone(org):
    rule(org, user=org.rep2)
    lead = lead_create(actor=org.rep1, data={"name": "李雷"})
    lead.refresh_from_db()
    assert lead.owner == org.rep1
    assert not Notification.objects.filter(kind="lead_assigned").exists()


def test_no_matching_rule_leaves_the_lead_unowned(org):
    rule(org, user=org.rep1, conditions={"provinces": ["北京"]})
    lead = new_lead(org, province="上海")
    assert lead.owner is None


@pytest.mark.parametrize(
    "conditions, lead_data, matches",
    [
        ({"provinces": "上海, 江苏"}, {"province": "江苏"}, True),
        ({"provinces": ["上海"]}, {"province": "北京"}, False),
        ({"min_score": 10}, {}, False),
        ({"min_score": 0}, {}, True),
    ],
)
def test_region_and_score_conditions(org, conditions, lead_data, matches):
    rule(org, user=org.rep1, conditions=conditions)
    lead = new_lead(org, **lead_data)
    assert (lead.owner == org.rep1) is matches


def test_source_industry_and_web_form_conditions(org):
    website = option(
        "lead_source",
        PicklistOption.objects.filter(picklist__code="lead_source")
        .values_list("value", flat=True)
        .first(),
    )
    it = option("industry", "it")
    form = make_web_form(actor=org.admin)
    rule(org, "source", user=org.rep1, conditions={"sources": [website.pk], "industries": [it.pk]})
    rule(org, "form", user=org.rep2, conditions={"web_forms": [form.pk]})
    rule(org, "rest", user=org.rep3)
    assert new_lead(org, source=website, industry=it).owner == org.rep1
    assert new_lead(org, source=website).owner == org.rep3  # industry missing
    lead = make_lead(owner=None, label="form lead", actor=org.admin, web_form=form)
    assignment.lead_assign_by_rules(lead=lead, actor=org.admin)
    assert Lead.objects.get(pk=lead.pk).owner == org.rep2


def test_the_first_active_rule_in_order_wins_and_moving_changes_it(org):
    first = rule(org, "first", user=org.rep1)
    second = rule(org, "second", user=org.rep2)
    inactive = rule(org, "inactive", user=org.rep3, is_active=False)
    assert [r.pk for r in AssignmentRule.objects.order_by("sort_order")] == [
        first.pk,
        second.pk,
        inactive.pk,
    ]
    assert new_lead(org).owner == org.rep1
    assignment.assignment_rule_move(actor=org.admin, rule=second, direction="up")
    assert new_lead(org).owner == org.rep2
    assignment.assignment_rules_reorder(actor=org.admin, ids=[inactive.pk, first.pk, second.pk])
    assert new_lead(org).owner == org.rep1  # the inactive rule never decides


def test_round_robin_takes_turns(org):
    rule(org, action="round_robin", members=[org.rep1, org.rep2, org.rep3])
    owners = [new_lead(org).owner for _ in range(6)]
    assert owners == [org.rep1, org.rep2, org.rep3] * 2


def test_round_robin_skips_a_member_at_capacity(org):
    rule(org, action="round_robin", members=[org.rep1, org.rep2])
    LeadCapacity.objects.create(user=org.rep1, max_open_leads=1)
    make_lead(owner=org.rep1, label="held", actor=org.admin)
    assert [new_lead(org).owner for _ in range(3)] == [org.rep2] * 3
    # A closed lead does not count: rep1 has room again.
    Lead.objects.filter(owner=org.rep1, name="held").update(status=LeadStatus.UNQUALIFIED)
    owners = {new_lead(org).owner for _ in range(2)}
    assert org.rep1 in owners


def test_a_person_at_capacity_sends_the_lead_to_the_rules_pool(org):
    pool = make_pool(name="华东线索池")
    rule(org, user=org.rep1, pool=pool)
    LeadCapacity.objects.create(user=org.rep1, max_open_leads=0)
    lead = new_lead(org)
    assert lead.owner is None
    lead_type = ContentType.objects.get_for_model(Lead)
    entry = PoolEntry.objects.get(content_type=lead_type, object_id=lead.pk)
    assert entry.pool == pool
    assert PoolEvent.objects.filter(
        object_id=lead.pk, content_type=lead_type, kind=PoolEventKind.ENTER
    ).exists()


def test_everybody_full_without_a_pool_stays_unassigned_and_tells_administrators(org):
    rule(org, "group", action="round_robin", members=[org.rep1, org.rep2])
    LeadCapacity.objects.create(user=org.rep1, max_open_leads=0)
    LeadCapacity.objects.create(user=org.rep2, max_open_leads=0)
    lead = new_lead(org)
    assert lead.owner is None
    notification = Notification.objects.get(recipient=org.admin, kind="lead_unassigned")
    assert "group" in notification.text
    assert AssignmentRule.objects.get().turn == 0


def test_a_pool_rule_puts_the_lead_in_the_pool(org):
    pool = make_pool(name="线索公海")
    rule(org, action="pool", pool=pool)
    lead = new_lead(org)
    assert lead.owner is None
    assert PoolEntry.objects.filter(pool=pool, object_id=lead.pk).exists()


def test_rule_validation_and_administrators_only(org):
    with pytest.raises(Exception) as error:
        rule(org, action="user")
    assert "user" in error.value.message_dict
    with pytest.raises(Exception) as error:
        rule(org, action="round_robin")
    assert "members" in error.value.message_dict
    with pytest.raises(ActionNotAllowed):
        assignment.assignment_rule_save(
            actor=org.manager, data={"name": "x", "action": "user", "user": org.rep1}
        )
    saved = rule(org, user=org.rep1)
    with pytest.raises(ActionNotAllowed):
        assignment.assignment_rule_delete(actor=org.rep1, rule=saved)
    with pytest.raises(ActionNotAllowed):
        assignment.lead_capacity_set(actor=org.rep1, user=org.rep1, max_open_leads=100)
    assignment.assignment_rule_delete(actor=org.admin, rule=saved)
    assert not AssignmentRule.objects.exists()


def test_capacity_set_and_remove(org):
    assignment.lead_capacity_set(actor=org.admin, user=org.rep1, max_open_leads=2)
    assert LeadCapacity.objects.get(user=org.rep1).max_open_leads == 2
    make_lead(owner=org.rep1, label="a", actor=org.admin)
    make_lead(owner=org.rep1, label="b", actor=org.admin)
    assert assignment.at_capacity(org.rep1)
    assignment.lead_capacity_set(actor=org.admin, user=org.rep1, max_open_leads=None)
    assert not assignment.at_capacity(org.rep1)
