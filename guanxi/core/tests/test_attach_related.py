"""attach_related: a page's foreign keys read with a query per related table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.selectors import attach_related
from guanxi.core.tests.factories import picklist_option as option
from guanxi.customers.models import Account
from guanxi.customers.services import account_create

pytestmark = pytest.mark.django_db


def test_foreign_keys_are_filled_with_one_query_per_table(org):
    for owner, name, data in (
        (
            org.rep1,
            "A",
            {"industry": option("industry", "it"), "level": option("customer_level", "key")},
        ),
        (org.rep2, "B", {"industry": option("industry", "it")}),
        (org.rep3, "C", {}),
    ):
        account_create(actor=owner, data={"name": name, **data})
    joined = list(
        Account.objects.select_related("owner", "department", "industry", "level").order_by("name")
    )
    records = list(Account.objects.order_by("name"))
    with CaptureQueriesContext(connection) as captured:
        attach_related(records, ["owner", "department", "industry", "level"])
    assert len(captured) == 3  # users, departments, picklist options
    with CaptureQueriesContext(connection) as captured:
        seen = [(r.owner, r.department, r.industry, r.level) for r in records]
    assert len(captured) == 0
    assert seen == [(r.owner, r.department, r.industry, r.level) for r in joined]
    assert seen[2][2] is None and seen[1][3] is None
    assert seen[0][2] is seen[1][2]  # one object per related row


def test_nothing_to_attach_reads_nothing(org):
    with CaptureQueriesContext(connection) as captured:
        attach_related([], ["owner"])
    assert len(captured) == 0


def test_only_foreign_keys_can_be_attached(org):
    account = account_create(actor=org.rep1, data={"name": "A"})
    with pytest.raises(ValueError):
        attach_related([account], ["name"])


def test_known_related_records_are_used_instead_of_read_again(org):
    account = account_create(actor=org.rep1, data={"name": "Known"})
    records = list(Account.objects.filter(pk=account.pk))
    owner = org.rep1
    with CaptureQueriesContext(connection) as captured:
        attach_related(records, ["owner"], known=[owner])
    assert len(captured) == 0
    assert records[0].owner is owner
