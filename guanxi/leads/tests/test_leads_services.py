"""Lead records with the rest of the app: search (pinyin), duplicate check against leads,
contacts and accounts, follow-ups about leads, and the lead selectors."""

import datetime

import pytest
from django.utils import timezone

from guanxi.activities.services import follow_up_create
from guanxi.core.search.selectors import search
from guanxi.customers import matching
from guanxi.customers.duplicates import duplicate_candidates, duplicate_keys_refresh
from guanxi.customers.tests.factories import make_account, make_contact
from guanxi.leads.models import Lead
from guanxi.leads.selectors.leads import lead_activities, lead_follow_ups, open_lead_matching
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_leads_are_found_by_pinyin_company_and_phone_within_scope(org):
    lead = make_lead(
        owner=org.rep1, label="单明", actor=org.rep1, company="明达贸易", phone="13800138000"
    )
    make_lead(owner=org.rep3, label="单明", actor=org.rep3)

    def found(user, text):
        return {hit.pk for hit in search(user=user, q=text) if hit.model == "leads.lead"}

    assert lead.pk in found(org.rep1, "shanming")  # 单 read as a surname
    assert lead.pk in found(org.rep1, "明达")
    assert lead.pk in found(org.rep1, "13800138000")
    assert found(org.rep1, "shanming") == {lead.pk}  # rep3's lead is outside rep1's scope


def test_duplicate_check_finds_leads_contacts_and_accounts(org):
    lead = make_lead(owner=org.rep1, label="张伟", actor=org.rep1, phone="13800138000")
    contact = make_contact(owner=org.rep1, label="张伟", actor=org.rep1)
    account = make_account(
        owner=org.rep1, label="明达贸易有限公司", actor=org.rep1, email="info@mingda.cn"
    )
    for record in (contact, account):  # the makers write no duplicate keys; services do
        duplicate_keys_refresh(record)
    hits = duplicate_candidates(
        user=org.rep1, name="张伟", phones=["138 0013 8000"], kind=matching.PERSON
    )
    assert {(hit.model_label, hit.pk) for hit in hits} >= {
        ("leads.lead", lead.pk),
        ("customers.contact", contact.pk),
    }
    hits = duplicate_candidates(
        user=org.rep1, name="明达贸易", emails=["info@mingda.cn"], kind=matching.COMPANY
    )
    assert ("customers.account", account.pk) in {(hit.model_label, hit.pk) for hit in hits}
    lead_hit = next(
        hit
        for hit in duplicate_candidates(user=org.rep3, name="张伟", phones=["13800138000"])
        if hit.model_label == "leads.lead"
    )
    assert not lead_hit.visible and lead_hit.name == ""  # rep3 learns only that it exists


def test_a_follow_up_on_a_lead_moves_its_dates_and_shows_in_its_lists(org):
    lead = make_lead(owner=org.rep1, label="李雷", actor=org.rep1)
    later = timezone.now() + datetime.timedelta(days=3)
    follow_up_create(
        actor=org.rep1,
        regarding=lead,
        channel="wechat",
        content="聊了报价",
        next_follow_up_at=later,
    )
    lead.refresh_from_db()
    assert lead.last_followed_up_at is not None and lead.next_follow_up_at == later
    assert [f.content for f in lead_follow_ups(lead=lead, user=org.rep1)] == ["聊了报价"]
    planned = lead_activities(lead=lead, user=org.rep1, open_only=True)
    assert len(planned) == 1 and planned[0].start_at == later
    assert lead_follow_ups(lead=lead, user=org.rep3) == []


def test_open_lead_matching_ignores_converted_and_deleted_leads(org):
    lead = make_lead(owner=org.rep1, label="甲", actor=org.rep1, email="a@example.com")
    assert open_lead_matching(email="A@example.com") == lead
    Lead.objects.filter(pk=lead.pk).update(is_deleted=True)
    assert open_lead_matching(email="a@example.com") is None
    assert open_lead_matching() is None
