"""Actions on one or many accounts: assign with a reason, share, add to a group, tag,
extract e-mail addresses, print envelopes and labels (PDF, Chinese), export vCard, and the
registry later apps add actions through."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.urls import reverse

from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    RecordShare,
    ShareAccess,
    TimelineEntry,
)
from guanxi.core.services.configuration import tag_create, tags_of
from guanxi.core.tests.test_pdf import contains_utf16
from guanxi.customers import account_hooks
from guanxi.customers.models import Account, GroupMember
from guanxi.customers.services import account_create, contact_create, group_create

pytestmark = pytest.mark.django_db

ACTIONS = reverse("customers:account_actions")
BULK = reverse("customers:account_bulk")
LIST = reverse("customers:account_list")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def account_type():
    return ContentType.objects.get_for_model(Account)


# --- Assign (the generic bulk bar, through account_assign) -----------------------------------
def test_bulk_assign_with_reason_writes_timeline_and_audit_and_skips_others(client, en):
    east = account_create(actor=en.rep1, data={"name": "East"})
    contact_create(actor=en.rep1, data={"name": "Wang"}, account=east)
    north = account_create(actor=en.rep3, data={"name": "North"})
    client.force_login(en.manager)
    response = client.post(
        BULK,
        {"action": "assign", "pk": [east.pk, north.pk], "owner": en.rep2.pk, "reason": "Leave"},
    )
    assert response.status_code == 302
    east.refresh_from_db()
    north.refresh_from_db()
    assert east.owner == en.rep2 and north.owner == en.rep3
    change = ChangeRecord.objects.get(
        content_type=account_type(), object_id=east.pk, action=ChangeAction.ASSIGN
    )
    assert change.message == "Leave" and change.actor == en.manager
    entry = TimelineEntry.objects.get(
        content_type=account_type(), object_id=east.pk, kind="owner_changed"
    )
    assert "Leave" in entry.text
    assert east.links.get().owner == en.rep2  # the contact link followed the account
    assert any("skipped" in text for text in messages_of(response))
    assert not ChangeRecord.objects.filter(object_id=north.pk, action=ChangeAction.ASSIGN)


# --- Share, group, tag -------------------------------------------------------------------
def test_bulk_share_only_editable_accounts(client, en):
    mine = account_create(actor=en.rep1, data={"name": "Mine"})
    other = account_create(actor=en.rep2, data={"name": "Other"})
    client.force_login(en.rep1)
    response = client.post(
        ACTIONS,
        {
            "bulk_action": "share",
            "pk": [mine.pk, other.pk],
            "user": en.rep3.pk,
            "access": ShareAccess.WRITE,
        },
    )
    assert response.status_code == 302
    shares = RecordShare.objects.filter(content_type=account_type())
    assert [(share.object_id, share.user, share.access) for share in shares] == [
        (mine.pk, en.rep3, ShareAccess.WRITE)
    ]
    assert any("skipped" in text for text in messages_of(response))
    client.force_login(en.rep3)
    assert client.get(reverse("customers:account_detail", args=[mine.pk])).status_code == 200


def test_share_needs_a_target(client, en):
    mine = account_create(actor=en.rep1, data={"name": "Mine"})
    client.force_login(en.rep1)
    response = client.post(ACTIONS, {"bulk_action": "share", "pk": [mine.pk]})
    assert response.status_code == 302
    assert not RecordShare.objects.exists()
    assert messages_of(response)


def test_add_to_static_group(client, en):
    first = account_create(actor=en.rep1, data={"name": "First"})
    second = account_create(actor=en.rep1, data={"name": "Second"})
    group = group_create(actor=en.rep1, data={"name": "Newsletter", "kind": "static"})
    others = group_create(actor=en.rep3, data={"name": "North list", "kind": "static"})
    client.force_login(en.rep1)
    client.post(ACTIONS, {"bulk_action": "group", "pk": [first.pk, second.pk], "group": group.pk})
    assert set(GroupMember.objects.values_list("account__name", flat=True)) == {"First", "Second"}
    # A group the user may not change is not a choice.
    client.post(ACTIONS, {"bulk_action": "group", "pk": [first.pk], "group": others.pk})
    assert not GroupMember.objects.filter(group=others).exists()


def test_add_tags_keeps_existing_ones(client, en):
    hot = tag_create(actor=en.admin, name="hot")
    vip = tag_create(actor=en.admin, name="vip")
    account = account_create(actor=en.rep1, data={"name": "Tagged"})
    other = account_create(actor=en.rep3, data={"name": "Not mine"})
    from guanxi.core.services.configuration import record_tags_set

    record_tags_set(record=account, tags=[hot], actor=en.rep1)
    client.force_login(en.rep1)
    client.post(ACTIONS, {"bulk_action": "tag", "pk": [account.pk, other.pk], "tags": [vip.pk]})
    assert sorted(tag.name for tag in tags_of(account)) == ["hot", "vip"]
    assert list(tags_of(other)) == []


def test_unknown_action_and_empty_selection(client, en):
    client.force_login(en.rep1)
    assert client.post(ACTIONS, {"bulk_action": "nope", "pk": [1]}).status_code == 302
    assert client.post(ACTIONS, {"bulk_action": "tag"}).status_code == 302
    assert client.get(ACTIONS).status_code == 405


# --- Extract e-mail addresses --------------------------------------------------------------
def test_extract_emails_of_accounts_and_contacts_in_scope(client, en):
    east = account_create(actor=en.rep1, data={"name": "East", "email": "info@east.cn"})
    contact_create(
        actor=en.rep1,
        data={"name": "Li"},
        emails=[{"address": "li@east.cn"}, {"address": "INFO@east.cn"}],
        account=east,
    )
    north = account_create(actor=en.rep3, data={"name": "North", "email": "info@north.cn"})
    client.force_login(en.manager)
    response = client.post(ACTIONS, {"bulk_action": "emails", "pk": [east.pk, north.pk]})
    assert response.status_code == 200
    assert [item["address"] for item in response.context["addresses"]] == [
        "info@east.cn",
        "li@east.cn",
    ]
    assert "info@east.cn; li@east.cn" in response.content.decode()
    assert "north.cn" not in response.content.decode()
    csv_response = client.post(ACTIONS, {"bulk_action": "emails", "pk": [east.pk], "format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    assert "li@east.cn,Li,East" in text
    assert ChangeRecord.objects.filter(action=ChangeAction.EXPORT).count() == 2


def test_exports_need_the_export_permission(client, en):
    account = account_create(actor=en.rep1, data={"name": "Mine", "province": "北京市"})
    client.force_login(en.rep1)  # sales reps may not export
    for action in ("emails", "envelopes", "labels", "vcard"):
        response = client.post(ACTIONS, {"bulk_action": action, "pk": [account.pk]})
        assert response.status_code == 403, action
    assert not ChangeRecord.objects.filter(action=ChangeAction.EXPORT).exists()


# --- Envelopes, labels, vCard ------------------------------------------------------------
@pytest.fixture
def addressed(en):
    account = account_create(
        actor=en.rep1,
        data={
            "name": "北京理想科技有限公司",
            "province": "北京市",
            "city": "北京市",
            "district": "海淀区",
            "address": "中关村大街1号",
            "postcode": "100080",
        },
    )
    contact_create(
        actor=en.rep1,
        data={"name": "张伟", "title": "经理"},
        phones=[{"number": "13800138000", "kind": "mobile"}],
        emails=[{"address": "zhang.wei@example.com"}],
        account=account,
        job_title="采购经理",
        is_primary=True,
    )
    return account


def test_envelopes_pdf_has_the_chinese_address(client, en, addressed):
    client.force_login(en.manager)
    response = client.post(
        ACTIONS, {"bulk_action": "envelopes", "pk": [addressed.pk], "size": "C5"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert contains_utf16(pdf, "北京市海淀区中关村大街1号")
    assert contains_utf16(pdf, "北京理想科技有限公司")
    assert contains_utf16(pdf, "张伟")
    assert ChangeRecord.objects.filter(action=ChangeAction.EXPORT).count() == 1


def test_envelope_size_is_validated(client, en, addressed):
    client.force_login(en.manager)
    response = client.post(
        ACTIONS, {"bulk_action": "envelopes", "pk": [addressed.pk], "size": "XXL"}
    )
    assert response.status_code == 302


def test_labels_pdf_and_scope(client, en, addressed):
    north = account_create(
        actor=en.rep3, data={"name": "哈尔滨北方公司", "province": "黑龙江省", "address": "x"}
    )
    client.force_login(en.manager)
    response = client.post(
        ACTIONS,
        {"bulk_action": "labels", "pk": [addressed.pk, north.pk], "sheet": "A4-2x7"},
    )
    assert response["Content-Type"] == "application/pdf"
    assert contains_utf16(response.content, "北京市海淀区中关村大街1号")
    assert not contains_utf16(response.content, "哈尔滨北方公司")  # not in the manager's scope


def test_finance_may_print_but_not_change(client, en, addressed):
    client.force_login(en.finance)  # sees everything, may export, may not change
    response = client.post(ACTIONS, {"bulk_action": "labels", "pk": [addressed.pk]})
    assert response["Content-Type"] == "application/pdf"
    response = client.post(ACTIONS, {"bulk_action": "tag", "pk": [addressed.pk], "tags": []})
    assert response.status_code == 403
    # The list offers row selection for the export actions.
    page = client.get(LIST)
    assert page.context["bulk_form"] is not None
    assert b'id="account-actions-form"' in page.content
    assert b'value="tag"' not in page.content


def test_vcard_of_the_accounts_contacts(client, en, addressed):
    client.force_login(en.manager)
    response = client.post(ACTIONS, {"bulk_action": "vcard", "pk": [addressed.pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vcard")
    card = response.content.decode()
    assert card.startswith("BEGIN:VCARD")
    assert "FN:张伟" in card
    assert "ORG:北京理想科技有限公司" in card
    assert "TITLE:采购经理" in card
    assert "zhang.wei@example.com" in card
    assert "+8613800138000" in card or "138 0013 8000" in card


def test_vcard_without_contacts_says_so(client, en):
    account = account_create(actor=en.rep1, data={"name": "Lonely"})
    client.force_login(en.manager)
    response = client.post(ACTIONS, {"bulk_action": "vcard", "pk": [account.pk]})
    assert response.status_code == 302
    assert any("no contacts" in text for text in messages_of(response))


def test_masked_roles_may_not_extract_contact_details(client, en, addressed):
    role = en.manager.roles.get()
    role.see_contact_details = False
    role.save()
    client.force_login(en.manager)
    for action in ("emails", "vcard"):
        assert (
            client.post(ACTIONS, {"bulk_action": action, "pk": [addressed.pk]}).status_code == 403
        )
    # Envelopes carry no phone or e-mail.
    response = client.post(ACTIONS, {"bulk_action": "envelopes", "pk": [addressed.pk]})
    assert response["Content-Type"] == "application/pdf"


def test_detail_page_offers_the_actions(client, en, addressed):
    client.force_login(en.manager)
    html = client.get(reverse("customers:account_detail", args=[addressed.pk])).content.decode()
    assert 'id="action-envelopes"' in html and 'id="envelopes-form"' in html
    assert 'value="vcard"' in html and 'value="emails"' in html
    client.force_login(en.rep1)
    html = client.get(reverse("customers:account_detail", args=[addressed.pk])).content.decode()
    assert 'id="action-envelopes"' not in html  # reps may not export


# --- The registry later apps use ----------------------------------------------------------
def test_registered_action_gets_the_permitted_accounts(client, en):
    received = []

    def handler(*, request, accounts, next_url):
        received.extend(account.name for account in accounts)
        return HttpResponse("done")

    account_hooks.register_account_bulk_action(
        account_hooks.AccountBulkAction("follow_up", "Create follow-up task", handler)
    )
    try:
        mine = account_create(actor=en.rep1, data={"name": "Mine"})
        other = account_create(actor=en.rep3, data={"name": "Other"})
        client.force_login(en.rep1)
        page = client.get(reverse("customers:account_detail", args=[mine.pk])).content.decode()
        assert "Create follow-up task" in page
        assert "Create follow-up task" in client.get(LIST).content.decode()
        response = client.post(ACTIONS, {"bulk_action": "follow_up", "pk": [mine.pk, other.pk]})
        assert response.content == b"done"
        assert received == ["Mine"]
    finally:
        account_hooks._bulk_actions.pop("follow_up")
