"""The lead page and list, continued: the logged reveal of a masked phone or e-mail (page
and API), follow-up channels shown by their label, links to what a converted lead became,
and the list's bulk actions (assign, share, tag, delete)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from guanxi.activities.services import follow_up_create
from guanxi.core.models import ChangeAction, ChangeRecord, RecordShare, Tag
from guanxi.core.services.configuration import tags_of
from guanxi.leads.models import Lead
from guanxi.leads.services.conversion import lead_convert
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db

BULK = "/leads/bulk/"


def _detail(lead):
    return reverse("leads:lead_detail", args=[lead.pk])


def _reveals(lead):
    return ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=lead.pk,
        action=ChangeAction.REVEAL,
    )


@pytest.fixture
def masked(org):
    """The sales reps' role may not see phone numbers and e-mails."""
    role = org.rep1.roles.get()
    role.see_contact_details = False
    role.save()
    return org


@pytest.fixture
def masked_lead(masked):
    return make_lead(
        owner=masked.rep1,
        label="王芳",
        actor=masked.rep1,
        phone="13800138000",
        email="wang.fang@example.com",
    )


# --- reveal ------------------------------------------------------------------------------------
def test_masked_lead_page_offers_a_logged_reveal(client, masked, masked_lead):
    client.force_login(masked.rep1)
    html = client.get(_detail(masked_lead)).content.decode()
    header = html[html.index('id="lead-phone"') : html.index('id="lead-next-follow-up"')]
    assert "138****8000" in header and "w***@example.com" in header
    assert "13800138000" not in html and "138 0013 8000" not in html
    assert "wang.fang@example.com" not in html
    reveal = reverse("leads:lead_reveal", args=[masked_lead.pk])
    assert f'hx-post="{reveal}"' in header

    assert client.get(reveal).status_code == 405
    response = client.post(reveal, {"field": "phone"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "138 0013 8000" in response.content.decode()
    change = _reveals(masked_lead).get()
    assert change.actor == masked.rep1 and change.after == {"revealed": ["phone"]}
    response = client.post(reveal, {"field": "email"})
    assert "wang.fang@example.com" in response.content.decode()
    assert _reveals(masked_lead).count() == 2
    assert client.post(reveal, {"field": "name"}).status_code == 404
    # The reveal is in the lead's history, without the value.
    html = client.get(_detail(masked_lead)).content.decode()
    assert "Revealed" in html and "138 0013 8000" not in html


def test_roles_that_see_details_get_no_button_and_no_log(client, masked, masked_lead):
    client.force_login(masked.manager)
    html = client.get(_detail(masked_lead)).content.decode()
    header = html[html.index('id="lead-phone"') : html.index('id="lead-next-follow-up"')]
    assert "138 0013 8000" in header and "gx-reveal" not in header
    client.post(reverse("leads:lead_reveal", args=[masked_lead.pk]), {"field": "phone"})
    assert not _reveals(masked_lead).exists()


def test_reveal_of_a_lead_outside_the_scope_is_404(client, masked):
    lead = make_lead(owner=masked.rep3, label="北方", actor=masked.rep3, phone="13800138000")
    client.force_login(masked.rep1)
    response = client.post(reverse("leads:lead_reveal", args=[lead.pk]), {"field": "phone"})
    assert response.status_code == 404
    api = APIClient()
    api.force_authenticate(masked.rep1)
    assert api.post(f"/api/v1/leads/{lead.pk}/reveal/").status_code == 404
    assert not _reveals(lead).exists()


def test_api_masks_and_reveals_with_a_log(masked, masked_lead):
    api = APIClient()
    api.force_authenticate(masked.rep1)
    data = api.get(f"/api/v1/leads/{masked_lead.pk}/").json()
    assert data["phone"] == "138****8000" and data["email"] == "w***@example.com"
    response = api.post(f"/api/v1/leads/{masked_lead.pk}/reveal/")
    assert response.status_code == 200
    assert response.json() == {"phone": "138 0013 8000", "email": "wang.fang@example.com"}
    assert _reveals(masked_lead).get().after == {"revealed": ["email", "phone"]}


# --- follow-up channels ------------------------------------------------------------------------
def test_follow_ups_show_the_channel_label(client, org):
    lead = make_lead(owner=org.rep1, label="李雷", actor=org.rep1)
    follow_up_create(actor=org.rep1, regarding=lead, channel="wechat", content="发了资料")
    client.force_login(org.rep1)
    html = client.get(_detail(lead)).content.decode()
    listed = html[html.index('id="lead-follow-ups"') : html.index('id="lead-open-activities"')]
    assert "发了资料" in listed
    assert "WeChat" in listed or "微信" in listed
    assert "wechat ·" not in listed


# --- converted ---------------------------------------------------------------------------------
def test_a_converted_lead_links_to_its_account_and_contact(client, org):
    lead = make_lead(owner=org.rep1, label="张伟", actor=org.rep1, company="云帆科技")
    result = lead_convert(lead=lead, actor=org.rep1)
    client.force_login(org.rep1)
    html = client.get(_detail(lead)).content.decode()
    converted = html[html.index('id="lead-converted"') :]
    account_url = reverse("customers:account_detail", args=[result.account.pk])
    contact_url = reverse("customers:contact_detail", args=[result.contact.pk])
    assert f'href="{account_url}"' in converted and f'href="{contact_url}"' in converted
    section = reverse("customers:account_section", args=[result.account.pk, "converted-from-lead"])
    assert f'hx-get="{section}"' in client.get(account_url).content.decode()
    account_page = client.get(section).content.decode()
    assert 'id="account-converted-leads"' in account_page
    assert f'href="{_detail(lead)}"' in account_page
    # Someone who sees the lead but not the account gets no link to a page they cannot open.
    lead.refresh_from_db()
    Lead.objects.filter(pk=lead.pk).update(owner=org.rep2)
    client.force_login(org.rep2)
    html = client.get(_detail(lead)).content.decode()
    assert 'id="lead-converted"' in html and f'href="{account_url}"' not in html


# --- bulk actions ------------------------------------------------------------------------------
def test_bulk_bar_offers_assign_share_tag_and_delete(client, org):
    make_lead(owner=org.rep1, label="一", actor=org.rep1)
    client.force_login(org.manager)
    html = client.get("/leads/").content.decode()
    bar = html[html.index('id="bulk-form"') : html.index("</form>", html.index('id="bulk-form"'))]
    for value in ("edit", "assign", "share", "tag", "delete"):
        assert f'<option value="{value}">' in bar, value


def test_bulk_share_asks_for_the_target_then_shares_the_editable_ones(client, org):
    mine = [make_lead(owner=org.rep1, label=f"共享{n}", actor=org.rep1) for n in range(2)]
    theirs = make_lead(owner=org.rep3, label="北方", actor=org.rep3)
    ids = [lead.pk for lead in (*mine, theirs)]
    client.force_login(org.rep1)
    page = client.post(BULK, {"action": "share", "pk": ids, "next": "/leads/"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="lead-bulk-form"' in html and 'id="lead-bulk-selection"' in html
    assert "共享0" in html and "共享1" in html and "北方" not in html
    response = client.post(
        BULK,
        {"action": "share", "step": "apply", "pk": ids, "user": org.rep2.pk, "access": "read"},
    )
    assert response.status_code == 302
    shared = RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), user=org.rep2
    )
    assert sorted(shared.values_list("object_id", flat=True)) == sorted(m.pk for m in mine)
    assert set(Lead.objects.visible_to(org.rep2).filter(pk__in=ids)) == set(mine)
    # No target: the form says so and nothing more is shared.
    response = client.post(BULK, {"action": "share", "step": "apply", "pk": ids})
    assert response.status_code == 200 and 'id="lead-bulk-form"' in response.content.decode()
    assert shared.count() == 2


def test_bulk_tag_adds_tags_and_keeps_the_old_ones(client, org):
    old, new = Tag.objects.create(name="老客户"), Tag.objects.create(name="展会")
    lead = make_lead(owner=org.rep1, label="标签", actor=org.rep1)
    from guanxi.core.services.configuration import record_tags_set

    record_tags_set(record=lead, tags=[old], actor=org.rep1)
    client.force_login(org.rep1)
    response = client.post(
        BULK, {"action": "tag", "step": "apply", "pk": [lead.pk], "tags": [new.pk]}
    )
    assert response.status_code == 302
    assert {tag.name for tag in tags_of(lead)} == {"老客户", "展会"}


def test_bulk_assign_and_delete_go_through_the_lead_services(client, org):
    leads = [make_lead(owner=org.rep1, label=f"批{n}", actor=org.rep1) for n in range(2)]
    client.force_login(org.manager)
    response = client.post(
        BULK, {"action": "assign", "pk": [leads[0].pk], "owner": org.rep2.pk, "reason": "休假"}
    )
    assert response.status_code == 302
    assigned = Lead.objects.get(pk=leads[0].pk)
    assert assigned.owner == org.rep2 and assigned.assigned_at is not None
    response = client.post(BULK, {"action": "delete", "pk": [leads[1].pk]})
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=leads[1].pk).exists()
    assert Lead.all_objects.get(pk=leads[1].pk).is_deleted


def test_read_only_roles_get_no_bulk_share(client, org):
    lead = make_lead(owner=org.rep1, label="只读", actor=org.rep1)
    client.force_login(org.read_only)
    response = client.post(BULK, {"action": "share", "pk": [lead.pk]})
    assert response.status_code in (302, 403)
    assert not RecordShare.objects.exists()


def test_the_admin_menu_links_the_lead_screens(client, org):
    client.force_login(org.admin)
    html = client.get("/leads/").content.decode()
    for name in ("leads:web_form_list", "leads:assignment_rules", "leads:scoring_rules"):
        assert f'href="{reverse(name)}"' in html, name
    client.force_login(org.rep1)
    html = client.get("/leads/").content.decode()
    assert f'href="{reverse("leads:web_form_list")}"' not in html
