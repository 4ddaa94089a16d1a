"""Conversion: new or matched account and contact, links both ways, the lead's follow-ups,
activities, attachments and timeline moved to the account, the opportunity hook, scope,
and never twice."""

import datetime
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from guanxi.activities.models import Activity, FollowUp
from guanxi.activities.services import follow_up_create
from guanxi.activities.tests.factories import make_activity
from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Attachment, TimelineEntry, User
from guanxi.core.services.attachments import attachment_upload
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.customers.services import account_create, contact_create
from guanxi.leads.models import Lead, LeadStatus
from guanxi.leads.selectors.flow import conversion_candidates
from guanxi.leads.services import conversion
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(org):
    return make_lead(
        owner=org.rep1,
        label="张伟",
        actor=org.admin,
        company="杭州云帆科技有限公司",
        title="采购经理",
        phone="13812345678",
        email="zhangwei@yunfan.cn",
        province="浙江",
        city="杭州",
    )


def test_convert_creates_account_and_contact_and_links_both_ways(org, lead):
    result = conversion.lead_convert(lead=lead, actor=org.rep1)
    assert result.account_created and result.contact_created
    account, contact = result.account, result.contact
    assert account.name == "杭州云帆科技有限公司" and account.owner == org.rep1
    assert account.province == "浙江" and account.phone
    assert contact.name == "张伟" and contact.owner == org.rep1
    assert list(contact.phones.values_list("digits", flat=True)) == ["13812345678"]
    assert AccountContact.objects.filter(account=account, contact=contact, is_primary=True).exists()
    converted = Lead.objects.get(pk=lead.pk)
    assert converted.status == LeadStatus.CONVERTED and converted.converted_at
    assert converted.converted_account == account and converted.converted_contact == contact
    assert list(account.converted_leads.all()) == [converted]
    account_type = ContentType.objects.get_for_model(Account)
    assert TimelineEntry.objects.filter(
        content_type=account_type, object_id=account.pk, kind="converted_from_lead"
    ).exists()


def test_follow_ups_activities_attachments_and_timeline_move_to_the_account(org, lead):
    follow_up = follow_up_create(
        actor=org.rep1,
        regarding=lead,
        channel="phone",
        content="Called about the quote",
        next_follow_up_at=timezone.now() + datetime.timedelta(days=2),
    )
    activity = make_activity(owner=org.rep1, label="Visit", actor=org.rep1, regarding=lead)
    attachment_upload(
        record=lead,
        uploaded_file=SimpleUploadedFile("brief.txt", b"requirements", content_type="text/plain"),
        actor=org.rep1,
    )
    result = conversion.lead_convert(lead=lead, actor=org.rep1)
    follow_up = FollowUp.objects.get(pk=follow_up.pk)
    activity = Activity.objects.get(pk=activity.pk)
    assert follow_up.account_id == result.account.pk and follow_up.contact_id == result.contact.pk
    assert follow_up.regarding_id == lead.pk  # still about the lead
    assert activity.account_id == result.account.pk
    account_type = ContentType.objects.get_for_model(Account)
    copied = Attachment.objects.get(content_type=account_type, object_id=result.account.pk)
    assert copied.filename == "brief.txt"
    lead_type = ContentType.objects.get_for_model(Lead)
    entries = TimelineEntry.objects.filter(content_type=lead_type, object_id=lead.pk)
    assert entries.exists()
    assert set(entries.values_list("account_id", flat=True)) == {result.account.pk}
    # The account's follow-ups now list the lead's.
    assert FollowUp.objects.filter(account_id=result.account.pk).count() == 1


def test_duplicate_candidates_are_offered_and_an_existing_account_and_contact_used(org, lead):
    account = account_create(actor=org.rep1, data={"name": "杭州云帆科技有限公司"})
    contact = contact_create(
        actor=org.rep1, data={"name": "张伟"}, phones=[{"number": "13812345678"}]
    )
    candidates = conversion_candidates(lead=lead, user=org.rep1)
    assert [hit.pk for hit in candidates.accounts] == [account.pk]
    assert [hit.pk for hit in candidates.contacts] == [contact.pk]
    # Somebody who may not see them is not offered them.
    assert conversion_candidates(lead=lead, user=org.rep3).accounts == []

    result = conversion.lead_convert(lead=lead, actor=org.rep1, account=account, contact=contact)
    assert not result.account_created and not result.contact_created
    assert Account.objects.count() == 1 and Contact.objects.count() == 1
    assert AccountContact.objects.filter(account=account, contact=contact).exists()


def test_a_lead_without_company_becomes_an_individual_account(org):
    lead = make_lead(owner=org.rep1, label="刘洋", actor=org.admin, phone="13900001111")
    result = conversion.lead_convert(lead=lead, actor=org.rep1)
    assert result.account.kind == Account.Kind.INDIVIDUAL
    assert result.contact == result.account.person
    assert Contact.objects.count() == 1


def test_converting_twice_is_refused(org, lead):
    conversion.lead_convert(lead=lead, actor=org.rep1)
    with pytest.raises(ValidationError):
        conversion.lead_convert(lead=lead, actor=org.rep1)
    stale = Lead.objects.get(pk=lead.pk)
    stale.status = LeadStatus.NEW  # a double submit from a page loaded before
    with pytest.raises(ValidationError):
        conversion.lead_convert(lead=stale, actor=org.rep1)
    assert Account.objects.count() == 1


def test_scope_and_role(org, lead):
    with pytest.raises(ActionNotAllowed):
        conversion.lead_convert(lead=lead, actor=org.rep3)
    with pytest.raises(ActionNotAllowed):
        conversion.lead_convert(lead=lead, actor=org.finance)
    other = account_create(actor=org.rep3, data={"name": "北方公司"})
    with pytest.raises(ValidationError):
        conversion.lead_convert(lead=lead, actor=org.rep1, account=other)
    assert Lead.objects.get(pk=lead.pk).status != LeadStatus.CONVERTED


@pytest.fixture
def no_opportunity_factory():
    """No opportunity factory during the test (the sales app registers one); whatever was
    registered is put back afterwards."""
    saved = list(conversion._opportunity_factory)
    conversion.register_conversion_opportunity_factory(None)
    yield
    conversion._opportunity_factory[:] = saved


def test_the_opportunity_factory(org, lead, no_opportunity_factory):
    assert not conversion.can_create_opportunity()
    with pytest.raises(ValidationError):
        conversion.lead_convert(lead=lead, actor=org.rep1, create_opportunity=True)
    calls = []

    def factory(*, lead, account, contact, data, actor):
        calls.append((lead.pk, account.pk, contact.pk, data, actor))
        return 4242

    conversion.register_conversion_opportunity_factory(factory)
    assert conversion.can_create_opportunity()
    result = conversion.lead_convert(
        lead=lead, actor=org.rep1, create_opportunity=True, opportunity_data={"name": "Deal"}
    )
    assert result.opportunity_id == 4242
    assert Lead.objects.get(pk=lead.pk).converted_opportunity_id == 4242
    assert calls[0][3] == {"name": "Deal"}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_conversions_make_one_account(seeded, org):
    import os

    from django.db import OperationalError, transaction

    lead = make_lead(owner=org.rep1, label="并发", actor=org.admin, company="并发公司")
    outcomes = []
    barrier = threading.Barrier(2)

    def work():
        try:
            actor = User.objects.get(pk=org.rep1.pk)
            record = Lead.objects.get(pk=lead.pk)
            barrier.wait(timeout=20)
            for _attempt in range(20000):
                try:
                    with transaction.atomic():
                        conversion.lead_convert(lead=record, actor=actor)
                    outcomes.append("converted")
                    break
                except OperationalError as error:
                    if connection.vendor != "sqlite" or "locked" not in str(error):
                        raise
                    os.sched_yield()
        except ValidationError:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["converted", "refused"], outcomes
    assert Account.objects.filter(name="并发公司").count() == 1
