"""The merge screens: default choices, what moves, the merge itself, and the scope."""

import pytest
from django.urls import reverse

from guanxi.core.models import PicklistOption
from guanxi.core.services.configuration import record_tags_set, tag_create
from guanxi.customers import services
from guanxi.customers.merge import ACCOUNT_MERGE_FIELDS
from guanxi.customers.models import Account, AccountContact, Contact

pytestmark = pytest.mark.django_db

MERGE = reverse("customers:account_merge")
CONTACT_MERGE = reverse("customers:contact_merge")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def account(owner, name, **data):
    return services.account_create(actor=owner, data={"name": name, **data})


def url(*records, base=MERGE):
    return f"{base}?ids={','.join(str(record.pk) for record in records)}"


def post_data(response, **overrides):
    """What the screen would post with its defaults, plus overrides."""
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(overrides)
    return data


@pytest.fixture
def pair(en):
    it = PicklistOption.objects.get(picklist__code="industry", value="it")
    survivor = account(en.rep1, "华为技术有限公司", phone="13800000001")
    merged = account(
        en.rep1,
        "北京华为技术有限公司",
        phone="13800000002",
        industry=it,
        website="https://hw.example",
    )
    return survivor, merged, it


def test_screen_defaults_to_the_survivors_values_else_the_first_non_empty(client, en, pair):
    survivor, merged, _it = pair
    services.contact_create(actor=en.rep1, data={"name": "联系人甲"}, account=merged)
    services.contact_create(actor=en.rep1, data={"name": "联系人乙"}, account=merged)
    record_tags_set(record=merged, tags=[tag_create(actor=en.admin, name="VIP")], actor=en.rep1)
    client.force_login(en.rep1)
    response = client.get(url(survivor, merged))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.selected("survivor") == survivor.pk
    assert form.selected("field_name") == survivor.pk
    assert form.selected("field_phone") == survivor.pk
    assert form.selected("field_industry") == merged.pk  # the survivor has none
    assert form.selected("field_website") == merged.pk
    assert form.selected("field_notes") == survivor.pk  # nobody has one
    assert [row["name"] for row in response.context["rows"]] == ACCOUNT_MERGE_FIELDS
    summary = {item["label"]: item["counts"] for item in response.context["summary"]}
    assert summary["Contacts"] == [0, 2]
    assert summary["Tags"] == [0, 1]
    html = response.content.decode()
    assert "北京华为技术有限公司" in html and "https://hw.example" in html
    assert 'name="field_industry"' in html and 'name="survivor"' in html


def test_merge_takes_the_chosen_values_moves_contacts_and_bins_the_other(client, en, pair):
    survivor, merged, it = pair
    contact = services.contact_create(actor=en.rep1, data={"name": "联系人甲"}, account=merged)
    client.force_login(en.rep1)
    response = client.get(url(survivor, merged))
    data = post_data(response, field_phone=str(merged.pk))
    response = client.post(url(survivor, merged), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:account_detail", args=[survivor.pk])
    survivor.refresh_from_db()
    assert survivor.industry == it and survivor.website == "https://hw.example"
    assert survivor.phone == merged.phone and survivor.name == "华为技术有限公司"
    assert AccountContact.objects.get(contact=contact).account_id == survivor.pk
    merged_row = Account.all_objects.get(pk=merged.pk)
    assert merged_row.is_deleted
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("merged into 华为技术有限公司" in message for message in messages)


def test_choosing_the_other_record_as_survivor(client, en, pair):
    survivor, merged, _it = pair
    client.force_login(en.rep1)
    response = client.get(url(survivor, merged))
    data = post_data(response, survivor=str(merged.pk))
    client.post(url(survivor, merged), data)
    assert Account.all_objects.get(pk=survivor.pk).is_deleted
    kept = Account.objects.get(pk=merged.pk)
    assert kept.name == "华为技术有限公司"  # the name radio still points at the first record


def test_records_the_user_may_not_edit_answer_404(client, en, pair):
    survivor, _merged, _it = pair
    foreign = account(en.rep3, "华为技术（北京）有限公司")
    client.force_login(en.rep1)
    assert client.get(url(survivor, foreign)).status_code == 404
    assert client.post(url(survivor, foreign), {"survivor": survivor.pk}).status_code == 404
    assert not Account.all_objects.get(pk=foreign.pk).is_deleted
    assert client.get(f"{MERGE}?ids=1,abc").status_code == 404


def test_fewer_than_two_records_go_back_to_the_list(client, en, pair):
    survivor, _merged, _it = pair
    client.force_login(en.rep1)
    response = client.get(url(survivor))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:account_list")


def test_a_role_without_change_is_refused(client, en, pair):
    survivor, merged, _it = pair
    client.force_login(en.read_only)
    assert client.get(url(survivor, merged)).status_code in (403, 404)
    assert not Account.all_objects.get(pk=merged.pk).is_deleted


def test_invalid_choice_re_renders_with_the_error(client, en, pair):
    survivor, merged, _it = pair
    client.force_login(en.rep1)
    response = client.get(url(survivor, merged))
    data = post_data(response, field_website="999999")
    response = client.post(url(survivor, merged), data)
    assert response.status_code == 400
    assert not Account.all_objects.get(pk=merged.pk).is_deleted


def test_merge_screen_query_count_is_bounded(client, en, django_assert_max_num_queries):
    records = [account(en.rep1, f"华为{number}号") for number in range(2)]
    many = [account(en.rep1, f"华为{number}号") for number in range(2, 8)]
    for record in records + many:
        services.contact_create(actor=en.rep1, data={"name": "人"}, account=record)
    client.force_login(en.rep1)
    client.get(url(*records))
    with django_assert_max_num_queries(40) as few:
        client.get(url(*records))
    with django_assert_max_num_queries(len(few)):
        client.get(url(*records, *many))


def test_contact_merge_moves_phones_and_links(client, en):
    first = services.contact_create(
        actor=en.rep1, data={"name": "张伟"}, phones=[{"number": "13800000001"}]
    )
    second = services.contact_create(
        actor=en.rep1,
        data={"name": "张伟", "wechat": "zw"},
        phones=[{"number": "13800000002"}],
        account=account(en.rep1, "甲公司"),
    )
    client.force_login(en.rep1)
    response = client.get(url(first, second, base=CONTACT_MERGE))
    assert response.status_code == 200
    assert response.context["form"].selected("field_wechat") == second.pk
    summary = {item["label"]: item["counts"] for item in response.context["summary"]}
    assert summary["Phones"] == [1, 1] and summary["Accounts"] == [0, 1]
    response = client.post(url(first, second, base=CONTACT_MERGE), post_data(response))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.wechat == "zw"
    assert set(first.phones.values_list("digits", flat=True)) == {"13800000001", "13800000002"}
    assert AccountContact.objects.filter(contact=first).count() == 1
    assert Contact.all_objects.get(pk=second.pk).is_deleted
