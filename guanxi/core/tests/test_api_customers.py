"""The customers resources: accounts (through the customers services), contacts,
account-contact links and groups."""

import pytest

from guanxi.core.api.testing import api_client
from guanxi.customers.models import Account, AccountContact, Contact, Group
from guanxi.customers.services import account_create, contact_create

pytestmark = pytest.mark.django_db


def test_individual_account_gets_its_person_through_the_service(org):
    response = api_client(org.rep1).post(
        "/api/v1/accounts/",
        {"name": "王芳", "kind": "individual", "phone": "13800138000"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["person"] is not None
    assert Contact.objects.get(pk=body["person"]).name == "王芳"
    assert body["lifecycle_stage"]


def test_lifecycle_change_lands_on_the_timeline(org):
    account = account_create(actor=org.rep1, data={"name": "Acme"})
    client = api_client(org.rep1)
    response = client.patch(
        f"/api/v1/accounts/{account.pk}/",
        {"lifecycle_stage": "active", "version": account.version},
        format="json",
    )
    assert response.status_code == 200, response.json()
    kinds = [e["kind"] for e in client.get(f"/api/v1/accounts/{account.pk}/timeline/").json()]
    assert "lifecycle_changed" in kinds


def test_parent_account_must_be_visible(org):
    hidden = account_create(actor=org.rep3, data={"name": "North"})
    response = api_client(org.rep1).post(
        "/api/v1/accounts/", {"name": "Child", "parent": hidden.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["errors"]
    assert not Account.objects.filter(name="Child").exists()


def test_contact_with_phones_and_emails(org):
    client = api_client(org.rep1)
    response = client.post(
        "/api/v1/contacts/",
        {
            "name": "李雷",
            "phones": [{"number": "138 0013 8000", "kind": "mobile"}],
            "emails": [{"address": "Li.Lei@Example.com", "kind": "work"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["phones"]) == 1 and body["phones"][0]["is_primary"]
    assert body["emails"][0]["address"].lower() == "li.lei@example.com"
    contact = Contact.objects.get(pk=body["id"])
    changed = client.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"phones": [], "title": "CTO", "version": contact.version},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["phones"] == []
    assert changed.json()["title"] == "CTO"
    bad = client.post(
        "/api/v1/contacts/", {"name": "x", "phones": [{"number": "not a phone"}]}, format="json"
    )
    assert bad.status_code == 400
    assert api_client(org.rep3).get(f"/api/v1/contacts/{contact.pk}/").status_code == 404


def test_link_contact_to_account_only_when_both_are_visible(org):
    account = account_create(actor=org.rep1, data={"name": "Acme"})
    contact = contact_create(actor=org.rep1, data={"name": "韩梅梅"})
    hidden = contact_create(actor=org.rep3, data={"name": "Hidden"})
    client = api_client(org.rep1)
    refused = client.post(
        "/api/v1/account-contacts/",
        {"account": account.pk, "contact": hidden.pk},
        format="json",
    )
    assert refused.status_code == 400
    assert "contact" in refused.json()["errors"]
    response = client.post(
        "/api/v1/account-contacts/",
        {"account": account.pk, "contact": contact.pk, "is_primary": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    link = AccountContact.objects.get(pk=response.json()["id"])
    assert link.owner == org.rep1
    again = client.post(
        "/api/v1/account-contacts/", {"account": account.pk, "contact": contact.pk}, format="json"
    )
    assert again.status_code == 400
    listed = client.get(f"/api/v1/account-contacts/?account={account.pk}").json()["results"]
    assert [row["contact_name"] for row in listed] == ["韩梅梅"]
    by_account = client.get(f"/api/v1/contacts/?account={account.pk}").json()["results"]
    assert [row["id"] for row in by_account] == [contact.pk]
    assert client.delete(f"/api/v1/account-contacts/{link.pk}/").status_code == 204


def test_groups(org):
    client = api_client(org.rep1)
    response = client.post("/api/v1/groups/", {"name": "重点客户"}, format="json")
    assert response.status_code == 201, response.json()
    group = Group.objects.get(pk=response.json()["id"])
    assert group.kind == "static"
    assert api_client(org.rep3).get(f"/api/v1/groups/{group.pk}/").status_code == 404
    renamed = client.patch(
        f"/api/v1/groups/{group.pk}/", {"name": "VIP", "version": group.version}, format="json"
    )
    assert renamed.json()["name"] == "VIP"
