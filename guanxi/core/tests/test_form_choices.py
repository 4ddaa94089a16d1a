"""Model choice fields of every bootstrapped form (list filters, the bulk bar, record forms)
read their options with one plain query, not through `queryset.iterator()`: on PostgreSQL
that is a server-side cursor (DECLARE, FETCH, CLOSE) per select."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.forms.generic import bootstrapify
from guanxi.core.forms.widgets import PlainQueryChoiceIterator, PlainQueryFilterChoiceIterator
from guanxi.core.models import PicklistOption
from guanxi.customers.filters import AccountFilterSet

pytestmark = pytest.mark.django_db


def _industries():
    return PicklistOption.objects.filter(picklist__code="industry", is_active=True).order_by(
        "sort_order", "id"
    )


class IndustryForm(forms.Form):
    industry = forms.ModelChoiceField(queryset=_industries(), required=False)
    industries = forms.ModelMultipleChoiceField(queryset=_industries(), required=False)


def test_form_choices_are_the_same_read_in_one_plain_query():
    expected = [("", "---------")] + [(o.pk, str(o)) for o in _industries()]
    form = bootstrapify(IndustryForm())
    assert form.fields["industry"].iterator is PlainQueryChoiceIterator
    choices = [(str(value), label) for value, label in form.fields["industry"].choices]
    assert choices == [(str(value), label) for value, label in expected]
    with CaptureQueriesContext(connection) as captured:
        html = str(form["industry"]) + str(form["industries"])
    assert len(captured) == 2  # one per select
    assert not any("DECLARE" in query["sql"] for query in captured.captured_queries)
    assert html.count("<option") == 2 * len(expected) - 1  # the multiple select: no empty


def test_filter_fields_keep_their_not_set_choice(rf, org):
    request = rf.get("/")
    request.user = org.admin
    filters = AccountFilterSet(data={}, queryset=None, request=request)
    field = filters.form.fields["industry"]
    bootstrapify(filters.form)
    assert field.iterator is PlainQueryFilterChoiceIterator
    choices = list(field.choices)
    assert choices[0][0] == "" and str(choices[1][0]) == "null"
    assert len(choices) == 2 + _industries().count()


def test_list_page_opens_no_cursor(client, org):
    client.force_login(org.admin)
    url = reverse("customers:account_list")
    # The page, and its filter panel and bulk values, loaded when opened.
    for query, field in (
        ("", "q"),
        ("?_panel=filters", "industry"),
        ("?_panel=bulk", "bulk_industry"),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + query)
        assert response.status_code == 200
        assert f'name="{field}"' in response.content.decode()
        assert not any("DECLARE" in sql["sql"] for sql in captured.captured_queries), query
