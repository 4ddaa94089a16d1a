import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core.exceptions import NotVisible
from guanxi.core.models import ChangeRecord, PicklistOption
from guanxi.core.services.attachments import attachment_upload, attachments_of
from guanxi.core.services.configuration import record_tags_set, tag_create, tags_of
from guanxi.core.services.records import record_share
from guanxi.customers import services
from guanxi.customers.merge import account_merge, contact_merge, register_merge_hook
from guanxi.customers.models import Account, AccountContact, Contact, GroupMember

pytestmark = pytest.mark.django_db


def test_account_merge_moves_everything_and_bins_the_merged(org):
    it = PicklistOption.objects.get(picklist__code="industry", value="it")
    survivor = services.account_create(
        actor=org.rep1, data={"name": "华为技术有限公司", "phone": "13800000001"}
    )
    merged = services.account_create(
        actor=org.rep1,
        data={"name": "北京华为技术有限公司", "industry": it, "website": "https://hw.example"},
    )
    shared_contact = services.contact_create(actor=org.rep1, data={"name": "A"}, account=survivor)
    services.account_contact_link(account=merged, contact=shared_contact, actor=org.rep1)
    only_merged = services.contact_create(actor=org.rep1, data={"name": "B"}, account=merged)
    group = services.group_create(actor=org.rep1, data={"name": "G"})
    services.group_add_accounts(group=group, accounts=[merged, survivor], actor=org.rep1)
    vip = tag_create(actor=org.admin, name="VIP")
    record_tags_set(record=merged, tags=[vip], actor=org.rep1)
    attachment_upload(
        record=merged,
        uploaded_file=SimpleUploadedFile("a.txt", b"hello", content_type="text/plain"),
        actor=org.rep1,
    )
    record_share(instance=merged, actor=org.rep1, user=org.rep3)
    services.points_record(account=merged, kind="earn", points=1500, reason="订单", actor=None)

    result = account_merge(
        survivor_id=survivor.pk,
        merged_ids=[merged.pk],
        actor=org.rep1,
        choices={"industry": merged.pk, "website": merged.pk, "name": survivor.pk},
    )

    assert result.industry == it and result.website == "https://hw.example"
    assert result.name == "华为技术有限公司" and result.phone == "138 0000 0001"
    assert set(
        AccountContact.objects.filter(account=survivor).values_list("contact", flat=True)
    ) == {
        shared_contact.pk,
        only_merged.pk,
    }
    assert GroupMember.objects.filter(group=group).count() == 1
    assert list(tags_of(survivor)) == [vip]
    assert [a.filename for a in attachments_of(survivor)] == ["a.txt"]
    assert Account.objects.visible_to(org.rep3).filter(pk=survivor.pk).exists()
    assert result.points == 1500 and result.membership_level.name_en == "Silver"
    assert not Account.objects.filter(pk=merged.pk).exists()
    assert Account.all_objects.get(pk=merged.pk).is_deleted
    assert ChangeRecord.objects.filter(object_id=survivor.pk, after__merged=[merged.pk]).exists()


def test_merge_refuses_records_the_user_cannot_edit_and_changes_nothing(org):
    mine = services.account_create(actor=org.rep1, data={"name": "Mine"})
    theirs = services.account_create(actor=org.rep3, data={"name": "Theirs"})
    with pytest.raises(NotVisible):
        account_merge(survivor_id=mine.pk, merged_ids=[theirs.pk], actor=org.rep1)
    assert Account.objects.filter(pk=theirs.pk).exists()


def test_merge_needs_two_records(org):
    mine = services.account_create(actor=org.rep1, data={"name": "Mine"})
    with pytest.raises(ValidationError):
        account_merge(survivor_id=mine.pk, merged_ids=[mine.pk], actor=org.rep1)


def test_merge_hook_runs_inside_the_merge(org):
    calls = []
    register_merge_hook(Account, lambda **kwargs: calls.append(kwargs))
    a = services.account_create(actor=org.rep1, data={"name": "A"})
    b = services.account_create(actor=org.rep1, data={"name": "B"})
    account_merge(survivor_id=a.pk, merged_ids=[b.pk], actor=org.rep1)
    assert calls[-1]["survivor"] == a and calls[-1]["merged"] == [b]


def test_contact_merge_unions_phones_and_relations(org):
    a = services.contact_create(
        actor=org.rep1, data={"name": "张伟"}, phones=[{"number": "13800000001"}]
    )
    b = services.contact_create(
        actor=org.rep1,
        data={"name": "张 伟", "title": "经理"},
        phones=[{"number": "13800000001"}, {"number": "13900000002"}],
        emails=[{"address": "zw@example.com"}],
    )
    boss = services.contact_create(actor=org.rep1, data={"name": "老板"})
    services.contact_relation_add(
        from_contact=b, to_contact=boss, kind="reports_to", actor=org.rep1
    )
    survivor = contact_merge(
        survivor_id=a.pk, merged_ids=[b.pk], actor=org.rep1, choices={"title": b.pk}
    )
    assert survivor.title == "经理"
    assert sorted(survivor.phones.values_list("digits", flat=True)) == [
        "13800000001",
        "13900000002",
    ]
    assert list(survivor.emails.values_list("address", flat=True)) == ["zw@example.com"]
    assert survivor.relations_from.get().to_contact == boss
    assert not Contact.objects.filter(pk=b.pk).exists()
