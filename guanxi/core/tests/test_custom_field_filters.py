"""Custom fields are filters on every generic list page."""

import pytest

from guanxi.core.services.configuration import custom_field_create
from guanxi.core.services.records import record_create
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(org):
    custom_field_create(
        actor=org.admin,
        model=Account,
        key="region",
        label_zh="区域",
        label_en="Region",
        field_type="choice",
        choices=[{"value": "e", "label_zh": "华东", "label_en": "East"}, "w"],
    )
    custom_field_create(
        actor=org.admin,
        model=Account,
        key="vip",
        label_zh="VIP",
        label_en="VIP",
        field_type="boolean",
    )
    custom_field_create(
        actor=org.admin,
        model=Account,
        key="code",
        label_zh="编码",
        label_en="Code",
        field_type="text",
    )


def names(client, **params):
    html = client.get("/customers/accounts/", params).content.decode()
    return {name for name in ("east-vip", "west", "east-plain") if name in html}


def test_lists_filter_on_custom_field_values(client, org, fields):
    for name, data in {
        "east-vip": {"region": "e", "vip": True, "code": "A-1"},
        "west": {"region": "w", "vip": False, "code": "B-2"},
        "east-plain": {"region": "e", "code": "A-3"},
    }.items():
        record_create(model=Account, data={"name": name}, actor=org.rep1, custom_data=data)
    client.force_login(org.rep1)
    assert names(client) == {"east-vip", "west", "east-plain"}
    assert names(client, cf_region="e") == {"east-vip", "east-plain"}
    assert names(client, cf_vip="true") == {"east-vip"}
    assert names(client, cf_vip="false") == {"west"}
    assert names(client, cf_code="A-") == {"east-vip", "east-plain"}


def test_the_filter_panel_offers_the_custom_fields(client, org, fields):
    client.force_login(org.rep1)
    # The panel's fields load when it opens (?_panel=filters).
    html = client.get("/customers/accounts/?_panel=filters").content.decode()
    assert 'name="cf_region"' in html and 'name="cf_vip"' in html and "East" in html
