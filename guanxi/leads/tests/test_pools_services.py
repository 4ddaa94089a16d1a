"""Public pools: putting in, visibility, claiming with its limits, releasing, the recycle
rules, the dry run, the countdown and the warnings."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeRecord, Notification, Picklist, PicklistOption, TimelineEntry
from guanxi.customers.models import Account
from guanxi.leads.models import Lead, LeadStatus, PoolEntry, PoolEvent, PoolEventKind
from guanxi.leads.selectors import pools as pool_selectors
from guanxi.leads.selectors.pools import pool_records, recycle_countdown
from guanxi.leads.services.pools import (
    pool_claim,
    pool_claim_many,
    pool_put,
    pool_release,
    recycle_run,
    recycle_warnings_send,
)
from guanxi.leads.tests.factories import (
    make_pool,
    make_pool_account,
    make_pool_lead,
    make_recycle_rule,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _fresh(user):
    """The same user without the per-object caches (roles, pools) of earlier calls."""
    return type(user).objects.get(pk=user.pk)


def _age(record, **fields):
    type(record).all_objects.filter(pk=record.pk).update(**fields)
    record.refresh_from_db()
    return record


@pytest.fixture
def east_pool(org):
    """华东 leads pool: rep1 and rep2 (east) are members through their department."""
    return make_pool(
        kind="leads",
        name="East leads",
        department=org.east,
        member_departments=[org.east],
        claims_per_day=10,
        cooldown_days=7,
    )


# --- putting in, visibility ------------------------------------------------------------------
def test_pool_put_removes_the_owner_and_logs_everywhere(org, east_pool):
    lead = make_pool_lead(owner=org.rep1, label="Put me")
    assert pool_put(record=lead, pool=east_pool, actor=org.rep1, reason="Not my region")
    lead.refresh_from_db()
    assert lead.owner_id is None
    entry = PoolEntry.objects.get(object_id=lead.pk)
    assert entry.pool == east_pool and entry.previous_owner == org.rep1
    assert PoolEvent.objects.filter(object_id=lead.pk, kind=PoolEventKind.ENTER).exists()
    ct = ContentType.objects.get_for_model(Lead)
    assert TimelineEntry.objects.filter(
        content_type=ct, object_id=lead.pk, kind="pool_enter"
    ).exists()
    change = ChangeRecord.objects.filter(content_type=ct, object_id=lead.pk).latest("pk")
    assert change.before == {"owner": org.rep1.pk} and change.after == {"owner": None}


def test_pool_records_are_visible_to_members_only(org, east_pool):
    lead = make_pool_lead(owner=None, actor=org.admin, label="In the pool", pool=east_pool)
    outside = make_pool_lead(owner=None, actor=org.admin, label="Nobody's")
    for member in (org.rep1, org.rep2, org.manager):
        visible = set(Lead.objects.visible_to(_fresh(member)).values_list("pk", flat=True))
        assert lead.pk in visible and outside.pk not in visible
    for outsider in (org.rep3, org.agent):
        assert not Lead.objects.visible_to(_fresh(outsider)).filter(pk=lead.pk).exists()
    assert Lead.objects.visible_to(org.admin).filter(pk__in=[lead.pk, outside.pk]).count() == 2
    # Members see pool records but change them only by claiming them.
    assert not Lead.objects.editable_by(_fresh(org.rep1)).filter(pk=lead.pk).exists()
    assert not Lead.objects.deletable_by(_fresh(org.rep1)).filter(pk=lead.pk).exists()


def test_member_departments_include_their_subtree_and_direct_members(org):
    pool = make_pool(kind="accounts", member_departments=[org.division], members=[org.agent])
    account = make_pool_account(owner=None, actor=org.admin, pool=pool)
    for user in (org.rep1, org.rep3, org.agent):
        assert Account.objects.visible_to(_fresh(user)).filter(pk=account.pk).exists()
    assert list(pool_records(pool=pool, user=_fresh(org.rep3))) == [account]


# --- claim -----------------------------------------------------------------------------------
def test_claim_gives_the_record_to_the_claimer(org, east_pool):
    lead = make_pool_lead(owner=None, actor=org.admin, pool=east_pool)
    version = Lead.objects.get(pk=lead.pk).version
    claimed = pool_claim(record=lead, actor=org.rep2)
    assert claimed.owner == org.rep2 and claimed.department == org.east
    assert claimed.assigned_at is not None and claimed.version == version + 1
    assert not PoolEntry.objects.filter(object_id=lead.pk).exists()
    assert PoolEvent.objects.filter(
        object_id=lead.pk, kind=PoolEventKind.CLAIM, user=org.rep2, pool=east_pool
    ).exists()
    assert TimelineEntry.objects.filter(object_id=lead.pk, kind="pool_claim").exists()
    assert ChangeRecord.objects.filter(
        object_id=lead.pk, message__contains="Claimed from the pool"
    ).exists()
    with pytest.raises(ValidationError, match="already claimed by someone else"):
        pool_claim(record=Lead.objects.get(pk=lead.pk), actor=org.rep1)


def test_non_members_and_read_only_roles_cannot_claim(org, east_pool):
    lead = make_pool_lead(owner=None, actor=org.admin, pool=east_pool)
    with pytest.raises(ActionNotAllowed, match="not a member"):
        pool_claim(record=lead, actor=_fresh(org.rep3))
    east_pool.members.add(org.read_only)
    with pytest.raises(ActionNotAllowed, match="role does not allow"):
        pool_claim(record=lead, actor=_fresh(org.read_only))
    assert Lead.objects.get(pk=lead.pk).owner_id is None


def test_daily_claim_limit_refuses_with_the_numbers(org, east_pool):
    east_pool.claims_per_day = 2
    east_pool.save()
    leads = [make_pool_lead(owner=None, actor=org.admin, pool=east_pool) for _ in range(3)]
    pool_claim(record=leads[0], actor=org.rep1)
    pool_claim(record=leads[1], actor=org.rep1)
    with pytest.raises(ValidationError, match="claimed 2 of 2 records from East leads today"):
        pool_claim(record=leads[2], actor=org.rep1)
    # Tomorrow the count starts again; other users have their own count.
    pool_claim(record=leads[2], actor=org.rep2)
    assert Lead.objects.get(pk=leads[2].pk).owner == org.rep2


def test_daily_limit_counts_from_local_midnight(org, east_pool):
    east_pool.claims_per_day = 1
    east_pool.save()
    first, second = (make_pool_lead(owner=None, actor=org.admin, pool=east_pool) for _ in "ab")
    pool_claim(record=first, actor=org.rep1)
    PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).update(
        created_at=pool_selectors.local_midnight() - datetime.timedelta(minutes=1)
    )
    pool_claim(record=second, actor=org.rep1)


def test_ownership_limit_refuses_with_the_numbers(org, east_pool):
    east_pool.max_owned = 2
    east_pool.save()
    make_pool_lead(owner=org.rep1, label="mine")
    converted = make_pool_lead(owner=org.rep1, label="converted")
    _age(converted, status=LeadStatus.CONVERTED, converted_at=timezone.now())
    first, second = (make_pool_lead(owner=None, actor=org.admin, pool=east_pool) for _ in "ab")
    pool_claim(record=first, actor=org.rep1)  # converted leads do not count
    with pytest.raises(ValidationError, match="you own 2 leads and East leads allows at most 2"):
        pool_claim(record=second, actor=org.rep1)


def test_ownership_refusal_tells_the_full_count_past_the_limit(org, east_pool):
    east_pool.max_owned = 1
    east_pool.save()
    for label in "abc":
        make_pool_lead(owner=org.rep1, label=label)
    pooled = make_pool_lead(owner=None, actor=org.admin, pool=east_pool)
    with pytest.raises(ValidationError, match="you own 3 leads and East leads allows at most 1"):
        pool_claim(record=pooled, actor=org.rep1)


def test_owns_at_least_counts_no_further_than_the_limit(org):
    for label in "abcd":
        make_pool_lead(owner=org.rep1, label=label)
    assert pool_selectors.owned_count(user=org.rep1, kind="leads") == 4
    for limit, expected in ((2, True), (4, True), (5, False)):
        assert pool_selectors.owns_at_least(user=org.rep1, kind="leads", limit=limit) is expected


def test_former_owner_waits_for_the_cooldown(org, east_pool):
    lead = make_pool_lead(owner=org.rep1)
    pool_release(record=lead, actor=org.rep1, reason="No budget", pool=east_pool)
    with pytest.raises(ValidationError, match=r"Cooldown.*\(7 days\)"):
        pool_claim(record=Lead.objects.get(pk=lead.pk), actor=org.rep1)
    later = timezone.now() + 7 * DAY + datetime.timedelta(minutes=1)
    pool_claim(record=Lead.objects.get(pk=lead.pk), actor=org.rep1, now=later)
    assert Lead.objects.get(pk=lead.pk).owner == org.rep1


def test_someone_else_may_claim_during_the_cooldown(org, east_pool):
    lead = make_pool_lead(owner=org.rep1)
    pool_release(record=lead, actor=org.rep1, reason="No budget", pool=east_pool)
    pool_claim(record=Lead.objects.get(pk=lead.pk), actor=org.rep2)


def test_claim_many_answers_per_id(org, east_pool):
    east_pool.claims_per_day = 2
    east_pool.save()
    leads = [make_pool_lead(owner=None, actor=org.admin, pool=east_pool) for _ in range(3)]
    taken = make_pool_lead(owner=org.rep2)
    ids = [lead.pk for lead in leads] + [taken.pk, 999999]
    results = pool_claim_many(pool=east_pool, model=Lead, ids=ids, actor=_fresh(org.rep1))
    assert [r.ok for r in results] == [True, True, False, False, False]
    assert "Daily claim limit" in results[2].error
    assert results[4].error == "Not found in this pool."


# --- release ---------------------------------------------------------------------------------
def test_release_needs_a_reason_and_goes_to_the_records_pool(org, east_pool):
    lead = make_pool_lead(owner=org.rep1, status=LeadStatus.CONTACTING)
    with pytest.raises(ValidationError):
        pool_release(record=lead, actor=org.rep1, reason="  ")
    pool = pool_release(record=lead, actor=org.rep1, reason="Wrong contact")
    assert pool == east_pool
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.status == LeadStatus.RECYCLED
    event = PoolEvent.objects.get(object_id=lead.pk, kind=PoolEventKind.RELEASE)
    assert event.reason == "Wrong contact" and event.user == org.rep1
    assert TimelineEntry.objects.filter(
        object_id=lead.pk, kind="pool_release", text__contains="Wrong contact"
    ).exists()


def test_only_who_may_edit_the_record_releases_it(org, east_pool):
    lead = make_pool_lead(owner=org.rep1)
    with pytest.raises(ActionNotAllowed):
        pool_release(record=lead, actor=org.rep2, reason="Not mine")
    pool_release(record=lead, actor=org.manager, reason="Team decision")


def test_release_without_a_matching_pool_asks_for_one(org):
    lead = make_pool_lead(owner=org.rep3)
    with pytest.raises(ValidationError, match="No pool takes this record"):
        pool_release(record=lead, actor=org.rep3, reason="x")


def test_the_deepest_pool_department_wins_then_the_region(org, east_pool):
    from guanxi.leads.services.pools import pool_for_record

    company = make_pool(kind="leads", name="Company", department=org.division)
    regional = make_pool(kind="leads", name="Shanghai", provinces=["上海"])
    assert pool_for_record(make_pool_lead(owner=org.rep1)) == east_pool
    assert pool_for_record(make_pool_lead(owner=org.rep3)) == company
    assert pool_for_record(make_pool_lead(owner=org.agent, province="上海")) == regional
    assert pool_for_record(make_pool_lead(owner=org.agent)) is None


# --- recycle rules ---------------------------------------------------------------------------
def test_not_followed_up_rule(org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    now = timezone.now()
    stale = _age(
        make_pool_lead(owner=org.rep1, label="stale"),
        assigned_at=now - 30 * DAY,
        last_followed_up_at=now - 11 * DAY,
    )
    fresh = _age(
        make_pool_lead(owner=org.rep1, label="fresh"),
        assigned_at=now - 30 * DAY,
        last_followed_up_at=now - 2 * DAY,
    )
    # Never followed up: the clock starts when it was taken.
    new = _age(make_pool_lead(owner=org.rep2, label="new"), assigned_at=now - 3 * DAY)
    never = _age(make_pool_lead(owner=org.rep2, label="never"), assigned_at=now - 12 * DAY)
    found = recycle_run(dry_run=True)
    assert {record.pk for record, _pool, _reason in found} == {stale.pk, never.pk}
    assert all(pool == east_pool for _record, pool, _reason in found)
    assert "Not followed up for 10 days" in found[0][2]
    assert recycle_countdown([stale, fresh, new, never]) == {
        stale.pk: 0,
        fresh.pk: 8,
        new.pk: 7,
        never.pk: 0,
    }


def test_no_deal_rule_for_leads_skips_converted_ones(org, east_pool):
    make_recycle_rule(pool=east_pool, no_deal_days=30)
    now = timezone.now()
    old = _age(make_pool_lead(owner=org.rep1), assigned_at=now - 31 * DAY)
    converted = _age(
        make_pool_lead(owner=org.rep1),
        assigned_at=now - 31 * DAY,
        status=LeadStatus.CONVERTED,
        converted_at=now,
    )
    recent = _age(make_pool_lead(owner=org.rep1), assigned_at=now - 5 * DAY)
    found = recycle_run(dry_run=True)
    assert [record.pk for record, *_ in found] == [old.pk]
    assert "Not converted within 30 days" in found[0][2]
    assert recycle_countdown([old, converted, recent]) == {old.pk: 0, recent.pk: 25}


def _level(name):
    picklist, _created = Picklist.objects.get_or_create(
        code="customer_level", defaults={"name": "Customer level"}
    )
    return PicklistOption.objects.create(
        picklist=picklist, value=name, label_zh=name, label_en=name
    )


def test_account_rules_per_customer_level(org):
    pool = make_pool(kind="accounts", department=org.division)
    vip = _level("VIP")
    make_recycle_rule(pool=pool, not_followed_up_days=10)
    make_recycle_rule(pool=pool, customer_level=vip, not_followed_up_days=60)
    now = timezone.now()
    plain = _age(make_pool_account(owner=org.rep1, label="plain"), created_at=now - 20 * DAY)
    important = _age(
        make_pool_account(owner=org.rep1, label="vip", level=vip), created_at=now - 20 * DAY
    )
    found = recycle_run(dry_run=True)
    assert [record.pk for record, *_ in found] == [plain.pk]
    assert recycle_countdown([plain, important]) == {plain.pk: 0, important.pk: 40}


def test_account_claim_restarts_the_clock(org):
    pool = make_pool(kind="accounts", department=org.division, member_departments=[org.east])
    make_recycle_rule(pool=pool, not_followed_up_days=10)
    account = _age(
        make_pool_account(owner=None, actor=org.admin, pool=pool),
        created_at=timezone.now() - 90 * DAY,
    )
    pool_claim(record=account, actor=org.rep1)
    assert recycle_countdown([Account.objects.get(pk=account.pk)]) == {account.pk: 10}
    assert recycle_run(dry_run=True) == []


@pytest.fixture
def sales_hooks(monkeypatch):
    """What the sales app would register: deals, contracts, open opportunities."""
    state = {"deals": set(), "ends": {}, "open": set(), "since": {}}

    def deals(since):
        state["since"].update(since)
        return state["deals"] & set(since)

    monkeypatch.setattr(pool_selectors, "_deal_checks", [deals])
    monkeypatch.setattr(pool_selectors, "_contract_ends", [lambda ids: state["ends"]])
    monkeypatch.setattr(pool_selectors, "_open_opportunity_checks", [lambda ids: state["open"]])
    return state


def test_account_deal_contract_and_open_opportunity_hooks(org, sales_hooks):
    pool = make_pool(kind="accounts", department=org.division)
    make_recycle_rule(pool=pool, no_deal_days=30, after_contract_days=15)
    now = timezone.now()
    no_deal = _age(make_pool_account(owner=org.rep1, label="no deal"), created_at=now - 40 * DAY)
    won = _age(make_pool_account(owner=org.rep1, label="won"), created_at=now - 40 * DAY)
    ended = _age(make_pool_account(owner=org.rep3, label="ended"), created_at=now - 2 * DAY)
    busy = _age(make_pool_account(owner=org.rep3, label="busy"), created_at=now - 40 * DAY)
    sales_hooks["deals"] |= {won.pk, ended.pk}
    sales_hooks["ends"][ended.pk] = (now - 20 * DAY).date()
    sales_hooks["open"].add(busy.pk)
    found = {record.pk: reason for record, _pool, reason in recycle_run(dry_run=True)}
    assert set(found) == {no_deal.pk, ended.pk}
    assert "No deal within 30 days" in found[no_deal.pk]
    assert "15 days after the last contract ended" in found[ended.pk]
    assert sales_hooks["since"][won.pk] == Account.objects.get(pk=won.pk).created_at


# --- the run, the dry run, the warnings ------------------------------------------------------
def test_dry_run_changes_nothing_and_the_run_recycles(org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    lead = _age(make_pool_lead(owner=org.rep1), assigned_at=timezone.now() - 20 * DAY)
    assert len(recycle_run(dry_run=True)) == 1
    assert Lead.objects.get(pk=lead.pk).owner == org.rep1
    assert not PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).exists()
    moved = recycle_run()
    assert [record.pk for record, *_ in moved] == [lead.pk]
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.status == LeadStatus.RECYCLED
    entry = PoolEntry.objects.get(object_id=lead.pk)
    assert entry.pool == east_pool and entry.previous_owner == org.rep1
    event = PoolEvent.objects.get(kind=PoolEventKind.RECYCLE)
    assert event.user is None and "Not followed up" in event.reason
    assert TimelineEntry.objects.filter(object_id=lead.pk, kind="pool_recycle").exists()
    assert ChangeRecord.objects.filter(object_id=lead.pk, message__contains="recycle").exists()
    assert recycle_run() == []
    # The former owner now waits for the cooldown.
    with pytest.raises(ValidationError, match="Cooldown"):
        pool_claim(record=lead, actor=org.rep1)


def test_inactive_pools_and_rules_recycle_nothing(org, east_pool):
    rule = make_recycle_rule(pool=east_pool, not_followed_up_days=1)
    _age(make_pool_lead(owner=org.rep1), assigned_at=timezone.now() - 20 * DAY)
    rule.is_active = False
    rule.save()
    assert recycle_run(dry_run=True) == []
    rule.is_active = True
    rule.save()
    east_pool.is_active = False
    east_pool.save()
    assert recycle_run(dry_run=True) == []


def test_warnings_reach_the_owner_once_a_day(org, east_pool):
    east_pool.warning_days = 3
    east_pool.save()
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    now = timezone.now()
    soon = _age(make_pool_lead(owner=org.rep1, label="Soon"), assigned_at=now - 8 * DAY)
    _age(make_pool_lead(owner=org.rep1, label="Later"), assigned_at=now - 2 * DAY)
    _age(make_pool_lead(owner=org.rep2, label="Overdue"), assigned_at=now - 12 * DAY)
    assert recycle_warnings_send(now=now) == 1
    note = Notification.objects.get(kind="pool_warning")
    assert note.recipient == org.rep1
    assert "Soon returns to the pool East leads in 2 days" in note.text
    assert str(soon.pk) in note.url
    assert recycle_warnings_send(now=now) == 0
    assert Notification.objects.filter(kind="pool_warning").count() == 1


# --- query counts ----------------------------------------------------------------------------
def test_countdown_reads_a_fixed_number_of_queries(org, east_pool, django_assert_max_num_queries):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    account_pool = make_pool(kind="accounts", department=org.division)
    make_recycle_rule(pool=account_pool, no_deal_days=10)
    leads = [make_pool_lead(owner=org.rep1) for _ in range(12)]
    accounts = [make_pool_account(owner=org.rep1, label=f"a{i}") for i in range(12)]
    with django_assert_max_num_queries(4):
        assert len(recycle_countdown(leads)) == 12
    with django_assert_max_num_queries(5):
        assert len(recycle_countdown(accounts)) == 12


def test_pool_membership_is_one_query_through_departments_above_the_users(
    org, django_assert_num_queries
):
    from guanxi.leads.selectors.pools import member_pool_ids

    division_pool = make_pool(kind="accounts", member_departments=[org.division])
    east_pool = make_pool(kind="leads", member_departments=[org.east])
    direct_pool = make_pool(kind="leads", members=[org.rep3])
    closed_pool = make_pool(kind="leads", members=[org.rep3], is_active=False)
    rep1 = _fresh(org.rep1)
    with django_assert_num_queries(1):
        assert member_pool_ids(rep1) == [division_pool.pk, east_pool.pk]
    rep3 = _fresh(org.rep3)
    assert member_pool_ids(rep3) == [division_pool.pk, direct_pool.pk]
    assert member_pool_ids(rep3, "leads") == [direct_pool.pk]
    assert closed_pool.pk not in member_pool_ids(rep3)
    assert member_pool_ids(_fresh(org.agent)) == []
    assert member_pool_ids(_fresh(org.finance)) == []  # no department at all
