"""Values read once per request: the memo, and picklists read through it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import PicklistOption
from guanxi.core.request_context import end_request_memo, request_memo, start_request_memo
from guanxi.core.selectors import picklist_option_rows
from guanxi.core.services.configuration import picklist_option_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_request():
    token = start_request_memo()
    yield
    end_request_memo(token)


def test_a_request_reads_a_picklist_once(in_request):
    with CaptureQueriesContext(connection) as captured:
        first = picklist_option_rows("activity_type")
        again = picklist_option_rows("activity_type")
        picklist_option_rows("follow_up_channel")
    assert first is again and len(first) > 1
    assert len(captured) == 2  # one per picklist
    assert [option.pk for option in first] == list(
        PicklistOption.objects.filter(picklist__code="activity_type")
        .order_by("sort_order", "id")
        .values_list("pk", flat=True)
    )


def test_outside_a_request_every_read_asks_the_database():
    with CaptureQueriesContext(connection) as captured:
        picklist_option_rows("activity_type")
        picklist_option_rows("activity_type")
    assert len(captured) == 2
    assert request_memo("key", lambda: 1) == 1


def test_a_picklist_change_is_read_again_by_the_same_request(org, in_request):
    option = picklist_option_rows("activity_type")[0]
    picklist_option_update(option=option, actor=org.admin, label_en="Renamed", is_active=False)
    fresh = picklist_option_rows("activity_type")[0]
    assert fresh.pk == option.pk
    assert (fresh.label_en, fresh.is_active) == ("Renamed", False)


def test_each_request_starts_with_an_empty_memo(in_request):
    request_memo("key", lambda: "first request")
    inner = start_request_memo()
    try:
        assert request_memo("key", lambda: "second request") == "second request"
    finally:
        end_request_memo(inner)
    assert request_memo("key", lambda: "never read") == "first request"
