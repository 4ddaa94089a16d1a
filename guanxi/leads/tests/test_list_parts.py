"""A rep's lead lists are read part by part (their own leads, the unowned ones of their pools,
the few shared with them: `core.scope.visible_in_parts`) and the pool page entry by entry
(`pool_records_page`): the same rows in the same order as the plain queries, page after page,
ties included."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.core.api.testing import api_client
from guanxi.core.scope import PartedQuerySetMixin, scope_parts, scope_q, visible_in_parts
from guanxi.core.services.records import record_share
from guanxi.leads.models import Lead, PoolEntry
from guanxi.leads.selectors.pools import pool_records, pool_records_page
from guanxi.leads.tests.factories import make_pool, make_pool_lead

pytestmark = pytest.mark.django_db

API = "/api/v1/leads/"


@pytest.fixture
def leads(org):
    """rep1 owns 9 leads, the east pool (rep1's department is a member) holds 8 unowned ones,
    rep2 shares one of theirs with rep1 and owns 3 more rep1 must not see; rep3's pool (north)
    holds 2 rep1 must not see either. Creation times, scores and pool entry times have ties
    across the parts."""
    east = make_pool(kind="leads", name="East leads", member_departments=[org.east])
    north = make_pool(kind="leads", name="North leads", member_departments=[org.north])
    base = timezone.now() - datetime.timedelta(days=30)
    made = []
    for n in range(9):
        made.append(make_pool_lead(owner=org.rep1, label=f"own {n}", actor=org.admin))
    for n in range(8):
        made.append(make_pool_lead(owner=None, label=f"pool {n}", actor=org.admin, pool=east))
    shared = make_pool_lead(owner=org.rep2, label="shared", actor=org.admin)
    record_share(instance=shared, actor=org.admin, user=org.rep1)
    made.append(shared)
    for n in range(3):
        make_pool_lead(owner=org.rep2, label=f"other {n}", actor=org.admin)
    for n in range(2):
        make_pool_lead(owner=None, label=f"north {n}", actor=org.admin, pool=north)
    # Ties: every third lead shares a creation time, scores repeat, entries share times.
    for index, lead in enumerate(made):
        Lead.all_objects.filter(pk=lead.pk).update(
            created_at=base + datetime.timedelta(hours=index // 3),
            score=(index * 7) % 5 * 10,
            status="new" if index % 4 else "working",
        )
    for index, entry in enumerate(PoolEntry.objects.filter(pool=east).order_by("pk")):
        PoolEntry.objects.filter(pk=entry.pk).update(
            entered_at=base + datetime.timedelta(minutes=index // 2)
        )
    org.east_pool = east
    return org


def _plain(user, *order, **filters):
    return list(
        Lead.objects.filter(scope_q(user, Lead, "view"), **filters)
        .order_by(*order)
        .values_list("name", flat=True)
    )


def test_the_rep_scope_has_parts_and_the_pages_keep_the_plain_order(leads):
    parts = scope_parts(leads.rep1, Lead, "view")
    assert parts is not None and len(parts) == 3  # own, shared, the pools' unowned
    expected = _plain(leads.rep1, "-created_at", "-id")
    assert len(expected) == 18  # 9 own + 8 in the east pool + 1 shared
    assert not any(name.startswith(("other", "north")) for name in expected)


@pytest.mark.parametrize("per_page", [25, 50])
def test_list_page_pages_like_the_plain_query(client, leads, per_page):
    client.force_login(leads.rep1)
    expected = _plain(leads.rep1, "-created_at", "-id")
    seen = []
    for page in (1, 2, 3):
        response = client.get(reverse("leads:lead_list"), {"page": page, "per_page": per_page})
        assert response.status_code == 200
        seen += [row["record"].name for row in response.context["rows"]]
    assert seen == expected


def test_list_page_sorted_by_score_with_ties(client, leads, django_assert_max_num_queries):
    client.force_login(leads.rep1)
    expected = _plain(leads.rep1, "score", "id")
    response = client.get(reverse("leads:lead_list"), {"sort": "score"})
    assert [row["record"].name for row in response.context["rows"]] == expected
    # Filtered by two statuses: same rows, no DISTINCT over everything.
    expected = _plain(leads.rep1, "-created_at", "-id", status__in=["new", "working"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("leads:lead_list"), {"status": ["new", "working"]})
    assert [row["record"].name for row in response.context["rows"]] == expected
    page_sql = [q["sql"] for q in captured if 'FROM "leads_lead"' in q["sql"]]
    assert page_sql and not any("DISTINCT" in sql for sql in page_sql)


def test_api_new_by_score_pages_through_every_part(leads):
    client = api_client(leads.rep1, token=True)
    expected = _plain(leads.rep1, "-score", "-id", status="new")
    assert 5 < len(expected) < 18
    seen = []
    for page in (1, 2, 3, 4):
        response = client.get(
            API, {"status": "new", "ordering": "-score", "page_size": 4, "page": page}
        )
        if response.status_code == 404:
            break
        assert response.status_code == 200, response.content
        seen += [row["name"] for row in response.json()["results"]]
    assert seen == expected


def test_api_list_reads_the_parts_separately(leads):
    client = api_client(leads.rep1, token=True)
    expected = _plain(leads.rep1, "-created_at", "-id")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(API, {"page_size": 7, "page": 2})
    assert [row["name"] for row in response.json()["results"]] == expected[7:14]
    page_sql = [
        q["sql"] for q in captured if 'FROM "leads_lead"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    # One limited read per part (own, shared, pool), then the page by primary key.
    assert len(page_sql) == 4
    where = page_sql[-1].split(" WHERE ", 1)[1]
    assert "leads_poolentry" not in where and "owner_id" not in where
    # Each part is read without the scope's OR of all the parts (which it implies): only the
    # pool's read asks for pool entries.
    assert sum("leads_poolentry" in sql for sql in page_sql[:3]) == 1


def test_a_managers_pool_records_are_read_as_a_part_of_their_own(client, leads):
    """A manager's scope (their department) is read in two parts, the scope without the pool
    rule and the pool's unowned leads: inside one OR, PostgreSQL hashed every entry of the
    pool for each page."""
    parted = visible_in_parts(Lead.objects.all(), leads.manager)
    assert isinstance(parted, PartedQuerySetMixin) and len(parted._gx_parts) == 2
    expected = _plain(leads.manager, "-created_at", "-id")
    assert sum(name.startswith("pool") for name in expected) == 8
    for start, stop in ((0, 5), (5, 13), (13, 40)):
        with CaptureQueriesContext(connection) as captured:
            names = [lead.name for lead in parted.order_by("-created_at", "-id")[start:stop]]
        assert names == expected[start:stop]
        part_reads = [q["sql"] for q in captured][:2]
        assert ["leads_poolentry" in sql for sql in part_reads] == [False, True]
    client.force_login(leads.manager)
    response = client.get(reverse("leads:lead_list"))
    assert [row["record"].name for row in response.context["rows"]] == expected[:25]


def test_users_outside_every_pool_keep_the_plain_filter(leads):
    assert not isinstance(visible_in_parts(Lead.objects.all(), leads.admin), PartedQuerySetMixin)
    leads.east_pool.member_departments.clear()
    manager = type(leads.manager).objects.get(pk=leads.manager.pk)
    assert not isinstance(visible_in_parts(Lead.objects.all(), manager), PartedQuerySetMixin)


def test_manager_and_administrator_lists_are_unchanged(client, leads):
    for user in (leads.manager, leads.admin):
        client.force_login(user)
        expected = _plain(user, "-created_at", "-id")[:25]
        response = client.get(reverse("leads:lead_list"))
        assert [row["record"].name for row in response.context["rows"]] == expected


# --- the pool page ------------------------------------------------------------------------------
@pytest.mark.parametrize("user_name", ["rep1", "admin"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 3), (0, 9), (2, 4), (5, 10), (7, 1), (8, 5)])
def test_pool_page_is_the_plain_slice(leads, user_name, offset, limit):
    user = getattr(leads, user_name)
    pool = leads.east_pool
    expected = list(pool_records(pool=pool, user=user)[offset : offset + limit])
    rows = pool_records_page(pool=pool, user=user, offset=offset, limit=limit)
    assert [row.pk for row in rows] == [record.pk for record in expected]
    assert [row.pool_entered_at for row in rows] == [r.pool_entered_at for r in expected]


def test_pool_page_skips_entries_the_user_does_not_see(leads):
    pool = leads.east_pool
    entries = list(PoolEntry.objects.filter(pool=pool).order_by("-entered_at", "-object_id"))
    # A stale entry of a lead that has an owner again, and one of a deleted lead.
    Lead.all_objects.filter(pk=entries[0].object_id).update(owner=leads.rep2)
    Lead.all_objects.filter(pk=entries[2].object_id).update(is_deleted=True)
    for offset, limit in ((0, 2), (0, 10), (1, 3), (4, 4)):
        expected = list(pool_records(pool=pool, user=leads.rep1)[offset : offset + limit])
        rows = pool_records_page(pool=pool, user=leads.rep1, offset=offset, limit=limit)
        assert [row.pk for row in rows] == [record.pk for record in expected]
    assert len(pool_records_page(pool=pool, user=leads.rep1, offset=0, limit=50)) == 6
    # Someone outside the pool's departments sees none of it.
    assert pool_records_page(pool=pool, user=leads.rep3, offset=0, limit=50) == []


def test_pool_page_second_page_in_the_browser(client, leads, monkeypatch):
    from guanxi.leads.views import pools as views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client.force_login(leads.rep1)
    expected = [r.pk for r in pool_records(pool=leads.east_pool, user=leads.rep1)]
    seen = []
    for page in (1, 2, 3):
        response = client.get(
            reverse("leads:pool_detail", args=[leads.east_pool.pk]), {"page": page}
        )
        seen += [row["record"].pk for row in response.context["records"]]
        assert response.context["has_next"] == (page < 3)
    assert seen == expected
