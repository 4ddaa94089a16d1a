"""Public pools in the browser: a member claims from a pool until the daily limit refuses
with a clear message, and an administrator dry-runs the recycle job (nothing moves)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.timedelta(days=1)


def _speaks_english(user) -> None:
    user.language = "en"
    user.save(update_fields=["language"])


def test_claim_from_a_pool_until_the_daily_limit_refuses(e2e_org, new_page):
    from guanxi.leads.models import Lead, PoolEntry
    from guanxi.leads.tests.factories import make_pool, make_pool_lead

    org = e2e_org
    pool = make_pool(
        kind="leads",
        name="East leads",
        department=org.east,
        member_departments=[org.east],
        claims_per_day=2,
    )
    names = ["无锡精密仪器", "常州新材料", "南通纺织"]
    leads = [
        make_pool_lead(owner=None, actor=org.admin, pool=pool, label=name, company=f"{name}公司")
        for name in names
    ]
    _speaks_english(org.rep1)
    page = new_page(locale="en")
    login(page, "rep1")
    page.goto("/leads/pools/")
    page.locator("main").get_by_role("link", name="East leads").click()
    expect(page.locator("#pool-limits")).to_contain_text("Claimed today: 0 of 2")
    table = page.locator("#pool-records")
    expect(table.locator("tbody tr")).to_have_count(3)

    def claim(name: str):
        table.locator("tbody tr", has_text=name).get_by_role("button", name="Claim").click()

    claim(names[0])
    expect(page.locator("main .alert-success")).to_have_text("You claimed 1 record.")
    expect(page.locator("#pool-limits")).to_contain_text("Claimed today: 1 of 2")
    expect(table.locator("tbody tr")).to_have_count(2)

    claim(names[1])
    expect(page.locator("main .alert-success")).to_have_text("You claimed 1 record.")
    expect(page.locator("#pool-limits")).to_contain_text("Claimed today: 2 of 2")
    expect(page.locator("#claims-left")).to_have_text("0 claims left")

    claim(names[2])
    refusal = page.locator("main .alert-danger")
    expect(refusal).to_have_text(
        "Daily claim limit reached: you have claimed 2 of 2 records from East leads today. "
        "Try again tomorrow."
    )
    expect(page.locator("main .alert-success")).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(names[2])

    owners = dict(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("name", "owner")
    )
    assert owners == {names[0]: org.rep1.pk, names[1]: org.rep1.pk, names[2]: None}
    assert PoolEntry.objects.filter(pool=pool).count() == 1

    # The claimed leads are the rep's now; the third stays in the pool with no owner (pool
    # members see it in their lead list too).
    page.goto("/leads/")
    rows = page.locator("#record-table tbody tr")
    expect(rows.filter(has_text=names[0])).to_contain_text("rep1")
    expect(rows.filter(has_text=names[1])).to_contain_text("rep1")
    expect(rows.filter(has_text=names[2])).not_to_contain_text("rep1")


def test_an_administrator_dry_runs_the_recycle_job_and_nothing_moves(e2e_org, new_page):
    from guanxi.core.models import ChangeRecord, TimelineEntry
    from guanxi.leads.models import Lead, PoolEntry, PoolEvent
    from guanxi.leads.tests.factories import make_pool, make_pool_lead, make_recycle_rule

    org = e2e_org
    pool = make_pool(
        kind="leads", name="East leads", department=org.east, member_departments=[org.east]
    )
    make_recycle_rule(pool=pool, not_followed_up_days=10)
    forgotten = make_pool_lead(owner=org.rep1, label="被遗忘的线索")
    fresh = make_pool_lead(owner=org.rep1, label="刚分配的线索")
    taken = timezone.now() - 11 * DAY
    Lead.objects.filter(pk=forgotten.pk).update(assigned_at=taken)
    audits_before = ChangeRecord.objects.count()
    timeline_before = TimelineEntry.objects.count()

    _speaks_english(org.admin)
    page = new_page(locale="en")
    login(page, "admin")
    page.goto("/leads/pools/dry-run/")
    expect(page.locator("#dry-run-summary")).to_contain_text(
        "1 record would return to its pool tonight."
    )
    row = page.locator("#dry-run-table tbody tr", has_text="被遗忘的线索")
    expect(row).to_be_visible()
    expect(row).to_contain_text("East leads")
    expect(row).to_contain_text("rep1")
    expect(row).to_contain_text(
        f"Not followed up for 10 days (last: {timezone.localtime(taken):%Y-%m-%d})."
    )
    expect(page.locator("#dry-run-table tbody tr")).to_have_count(1)
    expect(page.locator("#dry-run-table")).not_to_contain_text("刚分配的线索")
    expect(page.locator("#pool-run-now")).to_be_visible()

    # A dry run changes nothing: both leads keep their owner, the pool stays empty, no event,
    # no audit entry and no timeline entry was written.
    assert set(Lead.objects.values_list("owner", flat=True)) == {org.rep1.pk}
    assert Lead.objects.get(pk=forgotten.pk).status != "recycled"
    assert not PoolEntry.objects.exists() and not PoolEvent.objects.exists()
    assert ChangeRecord.objects.count() == audits_before
    assert TimelineEntry.objects.count() == timeline_before
    assert fresh.pk in set(Lead.objects.filter(owner=org.rep1).values_list("pk", flat=True))
