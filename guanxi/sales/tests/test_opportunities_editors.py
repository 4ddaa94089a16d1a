"""The row editors of the opportunity page (product lines, credit split): as many rows as
the page sends (added and removed in the page), per-row messages naming the line, the field
and the reason, and a refused save that keeps everything the user typed."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from guanxi.sales.models import PriceBook, PriceBookEntry, Product
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(org):
    return make_opportunity(owner=org.rep1, label="编辑器", actor=org.rep1)


@pytest.fixture
def products():
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    priced = Product.objects.create(code="P-1", name="服务器")
    PriceBookEntry.objects.create(price_book=book, product=priced, unit_price=Decimal("1000"))
    unpriced = Product.objects.create(code="P-2", name="咨询")
    return priced, unpriced


def _lines(version, rows, initial=0):
    data = {
        "version": version,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(initial),
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


def _detail(deal):
    return reverse("sales:opportunity_detail", args=[deal.pk])


def test_the_page_offers_an_add_button_and_an_empty_row_template(client, org, deal):
    client.force_login(org.rep1)
    html = client.get(_detail(deal)).content.decode()
    for marker in ('id="lines-add"', 'id="splits-add"', "data-formset-remove"):
        assert marker in html
    assert 'name="lines-__prefix__-product"' in html  # the row the button copies
    assert 'name="splits-__prefix__-user"' in html
    assert 'name="lines-TOTAL_FORMS" value="3"' in html  # no lines yet: a few blank rows


def test_as_many_lines_as_the_page_sends(client, org, deal, products):
    priced, unpriced = products
    client.force_login(org.rep1)
    rows = [
        {"product": priced.pk, "quantity": "1"},
        {"product": "", "quantity": ""},  # a blank row is skipped
        {"product": unpriced.pk, "quantity": "2", "unit_price": "10"},
        {"product": priced.pk, "quantity": "3"},
        {"product": unpriced.pk, "quantity": "4", "unit_price": "10"},
        {"product": priced.pk, "quantity": "5", "DELETE": "on"},  # removed in the page
    ]
    response = client.post(
        reverse("sales:opportunity_lines", args=[deal.pk]), _lines(deal.version, rows)
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert [(line.product_id, line.quantity) for line in deal.lines.order_by("sort_order")] == [
        (priced.pk, 1),
        (unpriced.pk, 2),
        (priced.pk, 3),
        (unpriced.pk, 4),
    ]
    assert deal.amount == Decimal("4060.00")
    html = client.get(_detail(deal)).content.decode()
    assert 'name="lines-TOTAL_FORMS" value="5"' in html  # four lines and one blank row


def test_a_refused_save_keeps_the_rows_and_names_line_field_and_reason(client, org, deal, products):
    priced, unpriced = products
    client.force_login(org.rep1)
    rows = [
        {"product": priced.pk, "quantity": "7", "discount_percent": "5"},
        {"product": priced.pk, "quantity": "2", "DELETE": "on"},
        {"product": unpriced.pk, "quantity": "3"},  # no price given, none in the book
        {"product": "", "quantity": "4"},  # a quantity but no product
    ]
    response = client.post(
        reverse("sales:opportunity_lines", args=[deal.pk]), _lines(deal.version, rows)
    )
    assert response.status_code == 400
    errors = response.context["lines_errors"]
    assert len(errors) == 2
    assert errors[0].startswith("Line 3, unit price: P-2")
    assert "has no price in" in errors[0]
    assert errors[1] == "Line 4, product: Choose a product."
    html = response.content.decode()
    assert 'id="lines-errors"' in html
    # Everything typed comes back: products, quantities, the discount, the deleted row.
    formset = response.context["line_formset"]
    assert formset.is_bound and len(formset.forms) == 4
    assert 'name="lines-0-quantity" value="7"' in html
    assert 'name="lines-0-discount_percent" value="5"' in html
    assert 'name="lines-3-quantity" value="4"' in html
    assert f'<option value="{unpriced.pk}" selected>' in html
    assert formset.forms[2].errors["unit_price"] and formset.forms[3].errors["product"]
    assert formset.forms[1].cleaned_data["DELETE"]
    deal.refresh_from_db()
    assert not deal.lines.exists() and not deal.amount_from_lines


def test_form_errors_are_numbered_per_row(client, org, deal, products):
    priced, _unpriced = products
    client.force_login(org.rep1)
    rows = [
        {"product": priced.pk, "quantity": "1"},
        {"product": priced.pk, "quantity": "-2"},
        {"product": priced.pk, "quantity": "1", "discount_percent": "150"},
    ]
    response = client.post(
        reverse("sales:opportunity_lines", args=[deal.pk]), _lines(deal.version, rows)
    )
    assert response.status_code == 400
    errors = response.context["lines_errors"]
    assert len(errors) == 2
    assert errors[0].startswith("Line 2, quantity: ")
    assert errors[1].startswith("Line 3, discount %: ")
    assert 'name="lines-1-quantity" value="-2"' in response.content.decode()


def test_a_stale_version_keeps_the_rows(client, org, deal, products):
    priced, _unpriced = products
    client.force_login(org.rep1)
    rows = [{"product": priced.pk, "quantity": "9"}]
    response = client.post(
        reverse("sales:opportunity_lines", args=[deal.pk]), _lines(deal.version - 1, rows)
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.context["lines_errors"][0]
    assert 'name="lines-0-quantity" value="9"' in response.content.decode()


def test_split_editor_rows_and_messages(client, org, deal):
    client.force_login(org.rep1)
    data = {
        "version": deal.version,
        "splits-TOTAL_FORMS": "4",
        "splits-INITIAL_FORMS": "0",
        "splits-0-user": org.rep1.pk,
        "splits-0-percent": "50",
        "splits-1-user": org.rep2.pk,
        "splits-1-percent": "120",
        "splits-2-user": org.rep1.pk,
        "splits-2-percent": "10",
        "splits-3-user": "",
        "splits-3-percent": "",
    }
    url = reverse("sales:opportunity_splits", args=[deal.pk])
    response = client.post(url, data)
    assert response.status_code == 400
    (error,) = response.context["splits_errors"]  # the form's check comes first
    assert error.startswith("Line 2, share %: ")
    html = response.content.decode()
    assert 'id="splits-errors"' in html and 'name="splits-2-percent" value="10"' in html
    assert 'name="splits-1-percent" value="120"' in html
    assert not deal.splits.exists()

    data["splits-1-percent"] = "40"
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["splits_errors"] == [
        f"Line 3, user: {org.rep1} has two shares; give one."
    ]

    # A share without a person is named too (the service checks every filled row).
    data.update({"splits-1-percent": "30", "splits-2-user": "", "splits-2-percent": "20"})
    response = client.post(url, data)
    assert response.context["splits_errors"] == ["Line 3, user: Choose a user."]

    # Three people, one added in the page, one removed: saved.
    data.update(
        {
            "splits-2-user": org.rep3.pk,
            "splits-2-percent": "20",
            "splits-3-user": org.manager.pk,
            "splits-3-percent": "5",
            "splits-3-DELETE": "on",
        }
    )
    assert client.post(url, data).status_code == 302
    assert {(s.user_id, s.percent) for s in deal.splits.all()} == {
        (org.rep1.pk, Decimal("50")),
        (org.rep2.pk, Decimal("30")),
        (org.rep3.pk, Decimal("20")),
    }


def test_service_row_errors_carry_line_and_field(org, deal, products):
    _priced, unpriced = products
    with pytest.raises(ValidationError) as refused:
        services.opportunity_lines_set(
            opportunity=deal,
            actor=org.rep1,
            lines=[{"product": unpriced, "quantity": 0}, {"product": unpriced, "quantity": 1}],
        )
    (first, second) = refused.value.error_dict["lines"]
    assert (first.line, first.field) == (1, "quantity")
    assert first.messages == ["Line 1, quantity: The quantity must be above zero."]
    assert (second.line, second.field) == (2, "unit_price")
