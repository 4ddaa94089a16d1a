"""Pool pages and the pools API: pool list and page, claiming (until the limit refuses),
release, the countdown on record pages and lists, the administrator's screens, dry run and
run now."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from guanxi.customers.models import Account
from guanxi.leads.models import Lead, Pool, PoolEntry, PoolEventKind, RecycleRule
from guanxi.leads.tests.factories import (
    make_pool,
    make_pool_account,
    make_pool_lead,
    make_recycle_rule,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def east_pool(org):
    return make_pool(
        kind="leads",
        name="East leads",
        department=org.east,
        member_departments=[org.east],
        claims_per_day=2,
    )


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- pages -----------------------------------------------------------------------------------
def test_members_see_their_pools_and_others_get_404(client, org, east_pool):
    make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label="Pooled lead")
    client.force_login(org.rep1)
    html = client.get(reverse("leads:pool_list")).content.decode()
    assert "East leads" in html
    page = client.get(reverse("leads:pool_detail", args=[east_pool.pk])).content.decode()
    assert "Pooled lead" in page and "Claimed today: 0 of 2" in page
    client.force_login(org.rep3)
    assert "East leads" not in client.get(reverse("leads:pool_list")).content.decode()
    assert client.get(reverse("leads:pool_detail", args=[east_pool.pk])).status_code == 404


def test_pool_pages_count_my_records_only_up_to_a_cap(client, org, east_pool, monkeypatch):
    from guanxi.leads.selectors import pools as pool_selectors

    for label in "abc":
        make_pool_lead(owner=org.rep1, label=label)
    client.force_login(org.rep1)
    detail = reverse("leads:pool_detail", args=[east_pool.pk])
    assert "You own 3" in client.get(detail).content.decode()
    monkeypatch.setattr(pool_selectors, "OWNED_COUNT_CAP", 2)
    assert "You own 2+" in client.get(detail).content.decode()
    listing = client.get(reverse("leads:pool_list")).content.decode()
    assert "2+" in listing


def test_claim_from_the_page_until_the_limit_refuses(client, org, east_pool):
    leads = [
        make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label=f"L{i}") for i in range(3)
    ]
    client.force_login(org.rep1)
    url = reverse("leads:pool_claim", args=[east_pool.pk])
    response = client.post(url, {"pk": [leads[0].pk, leads[1].pk]}, follow=True)
    assert "You claimed 2 records." in response.content.decode()
    response = client.post(url, {"one": leads[2].pk}, follow=True)
    html = response.content.decode()
    assert "Daily claim limit reached: you have claimed 2 of 2 records from East leads" in html
    assert Lead.objects.filter(owner=org.rep1).count() == 2
    assert Lead.objects.get(pk=leads[2].pk).owner_id is None


def test_release_from_the_record_asks_a_reason(client, org, east_pool):
    lead = make_pool_lead(owner=org.rep1, label="Let go")
    client.force_login(org.rep1)
    url = reverse("leads:pool_release", args=["lead", lead.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(url, {"reason": "Budget frozen"})
    assert response.status_code == 302
    entry = PoolEntry.objects.get(object_id=lead.pk)
    assert entry.pool == east_pool and entry.reason == "Budget frozen"
    # Someone else's record: invisible, 404.
    other = make_pool_lead(owner=org.rep3)
    assert client.get(reverse("leads:pool_release", args=["lead", other.pk])).status_code == 404


def test_countdown_on_the_lead_and_account_pages(client, org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    lead = make_pool_lead(owner=org.rep1, label="Counting")
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - 8 * DAY)
    account_pool = make_pool(kind="accounts", name="East accounts", department=org.east)
    make_recycle_rule(pool=account_pool, not_followed_up_days=30)
    account = make_pool_account(owner=org.rep1, label="Counted account")
    client.force_login(org.rep1)
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Returns to the pool in 2 days" in html and "text-bg-danger" in html
    assert 'id="pool-release"' in html
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert "Returns to the pool in 30 days" in html


def test_pool_record_page_offers_the_claim(client, org, east_pool):
    lead = make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label="Take me")
    client.force_login(org.rep2)
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "In the pool <strong>East leads</strong>" in html and 'id="pool-claim"' in html
    response = client.post(
        reverse("leads:pool_claim", args=[east_pool.pk]),
        {"pk": lead.pk, "next": reverse("leads:lead_detail", args=[lead.pk])},
    )
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == org.rep2


def test_countdown_column_sorts_and_stays_within_a_query_budget(
    client, org, east_pool, django_assert_max_num_queries
):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    now = timezone.now()
    for days in (1, 9, 5):
        lead = make_pool_lead(owner=org.rep1, label=f"Aged {days}")
        Lead.objects.filter(pk=lead.pk).update(assigned_at=now - days * DAY)
    client.force_login(org.rep1)
    url = reverse("leads:lead_list")
    client.get(url, {"col": ["name", "pool_countdown"]})  # warm the caches
    with django_assert_max_num_queries(25):
        html = client.get(
            url, {"col": ["name", "pool_countdown"], "sort": "pool_countdown"}
        ).content.decode()
    assert html.index("Aged 9") < html.index("Aged 5") < html.index("Aged 1")
    assert "returns to the pool in 1 day" in html and "returns to the pool in 9 days" in html
    account_pool = make_pool(kind="accounts", department=org.east)
    make_recycle_rule(pool=account_pool, not_followed_up_days=10)
    make_pool_account(owner=org.rep1, label="Listed account")
    html = client.get(
        reverse("customers:account_list"),
        {"col": ["name", "pool_countdown"], "sort": "-pool_countdown"},
    ).content.decode()
    assert "returns to the pool in 10 days" in html


def test_pool_page_query_count_does_not_grow(client, org, east_pool, django_assert_max_num_queries):
    for i in range(3):
        make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label=f"P{i}")
    client.force_login(org.rep1)
    url = reverse("leads:pool_detail", args=[east_pool.pk])
    client.get(url)
    with django_assert_max_num_queries(16) as few:
        client.get(url)
    for i in range(20):
        make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label=f"Q{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
    with django_assert_max_num_queries(12):
        client.get(reverse("leads:pool_list"))


def test_pool_page_does_not_count_the_pool(client, org, east_pool, django_assert_max_num_queries):
    # The page shows the user's claims and holdings, not the pool's size: counting a pool of
    # 150,000 entries cost every page 17 ms. The pool list still counts each pool.
    for i in range(3):
        make_pool_lead(owner=None, actor=org.admin, pool=east_pool, label=f"P{i}")
    client.force_login(org.rep1)
    with django_assert_max_num_queries(16) as page:
        response = client.get(reverse("leads:pool_detail", args=[east_pool.pk]))
    assert response.status_code == 200 and response.context["summary"]["is_member"]
    entry_counts = [
        q["sql"]
        for q in page.captured_queries
        if 'FROM "leads_poolentry"' in q["sql"] and "COUNT(" in q["sql"]
    ]
    assert entry_counts == []
    listing = client.get(reverse("leads:pool_list"))
    east = next(item for item in listing.context["summaries"] if item["pool"] == east_pool)
    assert east["records"] == 3


# --- administration --------------------------------------------------------------------------
def test_administrator_creates_a_pool_and_its_rule(client, org):
    client.force_login(org.admin)
    response = client.post(
        reverse("leads:pool_create"),
        {
            "name": "North accounts",
            "kind": "accounts",
            "department": org.north.pk,
            "provinces": ["北京市", "天津市"],
            "member_departments": [org.north.pk],
            "claims_per_day": 5,
            "max_owned": 100,
            "cooldown_days": 7,
            "warning_days": 3,
            "is_active": "on",
        },
    )
    pool = Pool.objects.get(name="North accounts")
    assert response.status_code == 302 and pool.provinces == ["北京市", "天津市"]
    assert list(pool.member_departments.all()) == [org.north]
    response = client.post(
        reverse("leads:pool_rule_create", args=[pool.pk]),
        {"not_followed_up_days": 15, "no_deal_days": 90, "is_active": "on"},
    )
    assert response.status_code == 302
    rule = RecycleRule.objects.get(pool=pool)
    assert rule.not_followed_up_days == 15 and rule.no_deal_days == 90
    response = client.post(reverse("leads:pool_rule_create", args=[pool.pk]), {"is_active": "on"})
    assert "at least one condition" in response.content.decode()
    client.force_login(org.manager)
    assert client.get(reverse("leads:pool_create")).status_code == 403


def test_dry_run_page_and_run_now(client, org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    lead = make_pool_lead(owner=org.rep1, label="Forgotten lead")
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - 11 * DAY)
    client.force_login(org.rep1)
    assert client.get(reverse("leads:pool_dry_run")).status_code == 403
    assert client.post(reverse("leads:pool_run")).status_code == 403
    client.force_login(org.admin)
    html = client.get(reverse("leads:pool_dry_run")).content.decode()
    assert "Forgotten lead" in html and "Not followed up for 10 days" in html
    assert Lead.objects.get(pk=lead.pk).owner == org.rep1
    assert client.get(reverse("leads:pool_run")).status_code == 200  # the confirmation
    response = client.post(reverse("leads:pool_run"), follow=True)
    assert "1 record returned to its pool." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).owner_id is None


# --- API -------------------------------------------------------------------------------------
def test_api_lists_my_pools_with_rules(org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    other = make_pool(kind="accounts", name="North", member_departments=[org.north])
    data = _api(org.rep1).get("/api/v1/pools/").json()
    assert [row["id"] for row in data["results"]] == [east_pool.pk]
    assert data["results"][0]["rules"][0]["not_followed_up_days"] == 10
    assert _api(org.rep1).get(f"/api/v1/pools/{other.pk}/").status_code == 404
    assert {row["id"] for row in _api(org.admin).get("/api/v1/pools/").json()["results"]} == {
        east_pool.pk,
        other.pk,
    }


def test_api_claim_answers_per_id(org, east_pool):
    leads = [make_pool_lead(owner=None, actor=org.admin, pool=east_pool) for _ in range(3)]
    url = f"/api/v1/pools/{east_pool.pk}/claim/"
    response = _api(org.rep1).post(
        url, {"type": "lead", "ids": [lead.pk for lead in leads]}, format="json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["ok"] for row in results] == [True, True, False]
    assert "Daily claim limit reached" in results[2]["error"]
    assert response.json()["claimed_today"] == 2
    response = _api(org.rep2).post(url, {"type": "lead", "ids": [leads[0].pk]}, format="json")
    assert response.json()["results"][0]["error"] == (
        "This record was already claimed by someone else."
    )
    response = _api(org.rep1).post(url, {"type": "account", "ids": [1]}, format="json")
    assert response.status_code == 400
    # Not a member: the pool is not there.
    assert _api(org.rep3).post(url, {"type": "lead", "ids": [1]}, format="json").status_code == 404


def test_api_release_and_dry_run(org, east_pool):
    make_recycle_rule(pool=east_pool, not_followed_up_days=10)
    mine = make_pool_lead(owner=org.rep1)
    theirs = make_pool_lead(owner=org.rep3)
    response = _api(org.rep1).post(
        f"/api/v1/pools/{east_pool.pk}/release/",
        {"type": "lead", "ids": [mine.pk, theirs.pk], "reason": "Moving on"},
        format="json",
    )
    assert [row["ok"] for row in response.json()["results"]] == [True, False]
    assert PoolEntry.objects.get(object_id=mine.pk).pool == east_pool
    assert Lead.objects.get(pk=theirs.pk).owner == org.rep3
    stale = make_pool_lead(owner=org.rep2, label="Stale")
    Lead.objects.filter(pk=stale.pk).update(assigned_at=timezone.now() - 30 * DAY)
    assert _api(org.rep1).get("/api/v1/pools/dry-run/").status_code == 403
    rows = _api(org.admin).get("/api/v1/pools/dry-run/").json()
    assert [(row["type"], row["id"], row["pool"]) for row in rows] == [
        ("lead", stale.pk, east_pool.pk)
    ]
    assert "Not followed up" in rows[0]["reason"]


def test_api_claim_records_the_event(org):
    pool = make_pool(kind="accounts", member_departments=[org.north])
    account = make_pool_account(owner=None, actor=org.admin, pool=pool)
    response = _api(org.rep3).post(
        f"/api/v1/pools/{pool.pk}/claim/", {"type": "account", "ids": [account.pk]}, format="json"
    )
    assert response.json()["results"] == [{"id": account.pk, "ok": True, "error": ""}]
    assert Account.objects.get(pk=account.pk).owner == org.rep3
    assert pool.events.filter(kind=PoolEventKind.CLAIM, user=org.rep3).exists()
