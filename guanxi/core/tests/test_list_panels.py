"""The list page's filter panel and bulk value selects are loaded when the user opens them.

A list page used to render every filter and every bulk-edit value select (a dozen selects,
each with its own query) on every page, hidden until opened. The page now carries a
placeholder; `?_panel=filters|bulk` answers the part itself.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import PicklistOption
from guanxi.core.services.records import record_create
from guanxi.core.tests.factories import user_with_permissions
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db

LIST = "/customers/accounts/"


def industry(value):
    return PicklistOption.objects.get(picklist__code="industry", value=value)


def _get(client, user, url):
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in captured.captured_queries]


def _reads(sqls, table):
    return [sql for sql in sqls if f'FROM "{table}"' in sql]


def test_list_page_leaves_the_filter_fields_and_bulk_values_out(client, org):
    record_create(model=Account, data={"name": "Acme", "kind": "company"}, actor=org.rep1)
    html, sqls = _get(client, org.rep1, LIST)

    assert 'id="list-filter-fields"' in html
    assert "_panel=filters" in html and "_panel=bulk" in html
    assert 'name="industry"' not in html  # neither the filter nor ...
    assert 'name="bulk_industry"' not in html  # ... the bulk edit value
    assert "Acme" in html
    # The picklist selects were most of the page's queries; none is read now.
    assert _reads(sqls, "core_picklistoption") == []


def test_active_filters_ride_along_as_hidden_inputs_until_the_panel_opens(client, org):
    finance = industry("finance")
    record_create(
        model=Account,
        data={"name": "Bank", "kind": "company", "industry": finance},
        actor=org.rep1,
    )
    record_create(model=Account, data={"name": "Shop", "kind": "company"}, actor=org.rep1)
    html, _ = _get(client, org.rep1, f"{LIST}?industry={finance.pk}&sort=name")

    placeholder = html[html.index('id="list-filter-fields"') :]
    placeholder = placeholder[: placeholder.index("</div>")]
    assert f'<input type="hidden" name="industry" value="{finance.pk}">' in placeholder
    assert 'name="sort"' not in placeholder  # only filter values are kept here
    assert f"industry={finance.pk}" in placeholder  # the panel opens with the same values
    assert "Bank" in html and "Shop" not in html


def test_filter_panel_renders_the_fields_with_their_values_without_reading_rows(client, org):
    finance = industry("finance")
    html, sqls = _get(client, org.rep1, f"{LIST}?_panel=filters&industry={finance.pk}")

    assert html.lstrip().startswith("<div") and "<html" not in html
    selected = re.search(r'<select name="industry"[^>]*>.*?</select>', html, re.S).group(0)
    assert f'<option value="{finance.pk}" selected>' in selected
    assert _reads(sqls, "customers_account") == []  # the panel does not read the page ...
    assert _reads(sqls, "core_savedview") == []  # ... nor the saved views of its menu


def test_bulk_panel_renders_the_value_selects(client, org):
    html, sqls = _get(client, org.rep1, f"{LIST}?_panel=bulk")

    assert 'name="bulk_industry"' in html
    assert "x-show=\"action === 'edit' && field === 'industry'\"" in html
    assert _reads(sqls, "customers_account") == []


def test_bulk_panel_is_not_found_for_a_role_without_bulk_actions(client, org):
    client.force_login(org.read_only)
    assert client.get(f"{LIST}?_panel=bulk").status_code == 404


def test_panels_need_the_view_permission(client, org):
    client.force_login(user_with_permissions({"leads.lead": ["view"]}))
    for panel in ("filters", "bulk", "account_actions"):
        response = client.get(f"{LIST}?_panel={panel}")
        assert response.status_code == 403, panel


def test_account_actions_parameters_load_as_a_panel(client, org):
    html, _ = _get(client, org.manager, LIST)
    assert "_panel=account_actions" in html
    assert 'name="sheet"' not in html and 'name="size"' not in html
    assert '<input type="hidden" name="postcode_boxes" value="on">' in html

    panel, _ = _get(client, org.manager, f"{LIST}?_panel=account_actions")
    assert 'name="sheet"' in panel and 'name="size"' in panel
    assert "x-show=\"act === 'labels'\"" in panel


def test_the_panels_answer_the_same_fields_the_page_used_to_render(client, org):
    """The bulk form still accepts what the loaded panel posts."""
    account = record_create(model=Account, data={"name": "Acme", "kind": "company"}, actor=org.rep1)
    client.force_login(org.rep1)
    panel = client.get(f"{LIST}?_panel=bulk").content.decode()
    assert "<html" not in panel and "Acme" not in panel  # the fragment, not the page
    field = re.search(r'<select name="(bulk_industry)"', panel).group(1)
    response = client.post(
        reverse("customers:account_bulk"),
        {"action": "edit", "pk": [account.pk], "field": "industry", field: industry("it").pk},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.industry == industry("it")


def test_an_unfiltered_page_builds_neither_the_filter_form_nor_the_bulk_values(client, org):
    """Their fields (with their option querysets) were built on every page and not shown."""
    record_create(model=Account, data={"name": "Acme", "kind": "company"}, actor=org.rep1)
    record_create(model=Account, data={"name": "Solo", "kind": "individual"}, actor=org.rep1)
    client.force_login(org.rep1)

    page = client.get(LIST)
    assert not hasattr(page.context["filterset"], "_form")
    assert not [name for name in page.context["bulk_form"].fields if name.startswith("bulk_")]
    assert [row["record"].name for row in page.context["rows"]] == ["Solo", "Acme"]

    filtered = client.get(LIST, {"kind": "company"})
    assert [row["record"].name for row in filtered.context["rows"]] == ["Acme"]
    assert filtered.context["active_filters"] == 1
    # A range filter's parameters carry a suffix; they filter too.
    since = client.get(LIST, {"created_at_after": "2999-01-01"})
    assert since.context["rows"] == []


def test_a_parameter_that_is_no_filter_leaves_the_rows_alone(client, org):
    record_create(model=Account, data={"name": "Acme", "kind": "company"}, actor=org.rep1)
    client.force_login(org.rep1)
    page = client.get(LIST, {"sort": "name", "per_page": "25"})
    assert [row["record"].name for row in page.context["rows"]] == ["Acme"]
    assert not hasattr(page.context["filterset"], "_form")
