"""The account API: every field, writes through the customers services, assign with a
reason, share, masking with a logged reveal, bounded queries."""

import pytest
from django.contrib.contenttypes.models import ContentType

from guanxi.core.api.testing import api_client
from guanxi.core.models import ChangeAction, ChangeRecord, RecordShare
from guanxi.core.tests.factories import picklist_option as option
from guanxi.customers.models import Account
from guanxi.customers.services import account_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/"


def test_create_with_every_field_normalises_through_the_service(org):
    parent = account_create(actor=org.rep1, data={"name": "HQ"})
    payload = {
        "name": "深圳南方电子有限公司",
        "kind": "company",
        "industry": option("industry", "it").pk,
        "status": option("account_status", "deal").pk,
        "credit_rating": option("credit_rating", "a").pk,
        "level": option("customer_level", "key").pk,
        "lifecycle_stage": "new",
        "account_manager": org.rep2.pk,
        "parent": parent.pk,
        "phone": "0755-8888 6666",
        "email": "Info@Nanfang.CN",
        "website": "https://nanfang.cn",
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "address": "科技园",
        "postcode": "518057",
        "tax_number": "91440300X",
        "invoice_title": "深圳南方电子有限公司",
        "annual_revenue": "5000000.00",
        "employees": 80,
        "notes": "from the API",
        "tags": ["api"],
    }
    response = api_client(org.rep1).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "0755 8888 6666"
    assert body["email"] == "Info@nanfang.cn"
    assert body["industry_label"] == option("industry", "it").label
    assert body["status_label"] == option("account_status", "deal").label
    assert body["level_label"] == option("customer_level", "key").label
    assert body["account_manager_name"] == str(org.rep2)
    assert body["tags"] == ["api"]
    account = Account.objects.get(pk=body["id"])
    assert account.phone_digits == "075588886666"
    assert (account.province, account.city, account.district) == ("广东省", "深圳市", "南山区")
    assert account.parent == parent


def test_invalid_phone_answers_400_on_the_field(org):
    response = api_client(org.rep1).post(URL, {"name": "X", "phone": "12"}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()["errors"]


def test_picklist_of_another_list_is_refused(org):
    response = api_client(org.rep1).post(
        URL, {"name": "X", "status": option("industry", "it").pk}, format="json"
    )
    assert response.status_code == 400


def test_stale_version_is_409(org):
    account = account_create(actor=org.rep1, data={"name": "V"})
    client = api_client(org.rep1)
    ok = client.patch(f"{URL}{account.pk}/", {"notes": "a", "version": 1}, format="json")
    assert ok.status_code == 200
    stale = client.patch(f"{URL}{account.pk}/", {"notes": "b", "version": 1}, format="json")
    assert stale.status_code == 409


def test_assign_with_reason_and_share(org):
    account = account_create(actor=org.rep1, data={"name": "Move"})
    response = api_client(org.rep1).post(
        f"{URL}{account.pk}/assign/", {"owner": org.rep2.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 403  # reps may not assign
    response = api_client(org.manager).post(
        f"{URL}{account.pk}/assign/", {"owner": org.rep2.pk, "reason": "Holiday"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == org.rep2.pk
    change = ChangeRecord.objects.get(object_id=account.pk, action=ChangeAction.ASSIGN)
    assert change.message == "Holiday"
    response = api_client(org.rep2).post(
        f"{URL}{account.pk}/share/", {"user": org.rep3.pk, "access": "read"}, format="json"
    )
    assert response.status_code == 201
    assert RecordShare.objects.filter(object_id=account.pk, user=org.rep3).exists()
    assert api_client(org.rep3).get(f"{URL}{account.pk}/").status_code == 200


def test_masked_role_and_logged_reveal(org):
    role = org.rep1.roles.get()
    role.see_contact_details = False
    role.save()
    account = account_create(
        actor=org.rep1, data={"name": "Masked", "phone": "13800138000", "email": "li@example.com"}
    )
    client = api_client(org.rep1)
    body = client.get(f"{URL}{account.pk}/").json()
    assert body["phone"] == "138****8000"
    assert body["email"] == "l***@example.com"
    listed = client.get(URL).json()["results"][0]
    assert listed["phone"] == "138****8000"

    response = client.post(f"{URL}{account.pk}/reveal/")
    assert response.status_code == 200
    assert response.json() == {"phone": "138 0013 8000", "email": "li@example.com"}
    change = ChangeRecord.objects.get(
        content_type=ContentType.objects.get_for_model(Account),
        object_id=account.pk,
        action=ChangeAction.REVEAL,
    )
    assert change.actor == org.rep1
    assert change.after == {"revealed": ["email", "phone"]}

    # Roles that see the values get them as they are; nothing to log.
    assert api_client(org.manager).get(f"{URL}{account.pk}/").json()["phone"] == "138 0013 8000"
    api_client(org.manager).post(f"{URL}{account.pk}/reveal/")
    assert ChangeRecord.objects.filter(action=ChangeAction.REVEAL).count() == 1


def test_reveal_of_an_invisible_account_is_404(org):
    account = account_create(actor=org.rep3, data={"name": "North", "phone": "13800138000"})
    assert api_client(org.rep1).post(f"{URL}{account.pk}/reveal/").status_code == 404


def _list_queries(client, django_assert_max_num_queries, expected, limit=40):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(f"{URL}?page_size=100")
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected
    return len(captured.captured_queries)


def test_list_queries_do_not_grow_with_rows(org, django_assert_max_num_queries):
    def make(count, start):
        for index in range(start, start + count):
            account_create(
                actor=org.rep1,
                data={
                    "name": f"A{index}",
                    "industry": option("industry", "it"),
                    "status": option("account_status", "deal"),
                    "level": option("customer_level", "key"),
                    "credit_rating": option("credit_rating", "a"),
                    "account_manager": org.rep2,
                },
            )

    make(3, 0)
    client = api_client(org.rep1)
    client.get(URL)
    few = _list_queries(client, django_assert_max_num_queries, 3)
    make(20, 3)
    many = _list_queries(client, django_assert_max_num_queries, 23)
    assert many <= few
