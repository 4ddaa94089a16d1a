"""The contact pages: list, detail, create/edit with several phones and e-mails, links to
accounts, relations, and the contacts section of the account page."""

import pytest
from django.urls import reverse

from guanxi.core.models import ChangeRecord, PicklistOption, Role
from guanxi.core.search.selectors import search
from guanxi.core.services.records import record_create
from guanxi.customers import services
from guanxi.customers.models import Account, AccountContact, Contact, ContactRelation
from guanxi.customers.sections import account_sections
from guanxi.customers.views_contacts import _contacts_section

pytestmark = pytest.mark.django_db

LIST = reverse("customers:contact_list")
CREATE = reverse("customers:contact_create")
LINK = reverse("customers:account_contact_link")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def detail(contact):
    return reverse("customers:contact_detail", args=[contact.pk])


def account(owner, name, **data):
    return record_create(model=Account, data={"name": name, **data}, actor=owner)


def contact(owner, name, phones=None, emails=None, **data):
    return services.contact_create(
        actor=owner, data={"name": name, **data}, phones=phones, emails=emails
    )


def role(value):
    return PicklistOption.objects.get(picklist__code="contact_role", value=value)


def points_post(data, name, rows, primary=0):
    data[f"{name}-value"] = [value for value, _kind in rows]
    data[f"{name}-kind"] = [kind for _value, kind in rows]
    data[f"{name}-primary"] = str(primary)
    return data


# --- List and detail -------------------------------------------------------------------------
def test_list_and_detail_obey_the_scope(client, en):
    mine = contact(en.rep1, "Rep1 Person", phones=[{"number": "13812345678"}])
    theirs = contact(en.rep3, "Rep3 Person")
    client.force_login(en.rep1)
    response = client.get(LIST)
    names = [row["record"].name for row in response.context["rows"]]
    assert names == ["Rep1 Person"]
    assert b"Rep3 Person" not in response.content
    assert b"138 1234 5678" in response.content  # the primary phone column
    assert client.get(detail(mine)).status_code == 200
    assert client.get(detail(theirs)).status_code == 404
    assert client.get(reverse("customers:contact_edit", args=[theirs.pk])).status_code == 404


def test_list_shows_only_the_accounts_the_viewer_can_see(client, en):
    person = contact(en.rep1, "Shared Person")
    services.account_contact_link(
        account=account(en.rep1, "Visible Trading"), contact=person, actor=en.rep1
    )
    services.account_contact_link(
        account=account(en.rep3, "Hidden Northern"), contact=person, actor=en.admin
    )
    client.force_login(en.rep1)
    html = client.get(LIST).content.decode()
    assert "Visible Trading" in html
    assert "Hidden Northern" not in html
    html = client.get(detail(person)).content.decode()
    assert "Visible Trading" in html
    assert "Hidden Northern" not in html

    client.force_login(en.admin)
    assert "Hidden Northern" in client.get(LIST).content.decode()


def test_phones_are_masked_for_a_role_that_may_not_see_them(client, en):
    person = contact(
        en.rep1, "Masked Person", phones=[{"number": "13812345678"}], emails=[{"address": "a@b.cn"}]
    )
    Role.objects.filter(code="sales_rep").update(see_contact_details=False)
    client.force_login(en.rep1)
    for url in (LIST, detail(person)):
        html = client.get(url).content.decode()
        assert "13812345678" not in html and "138 1234 5678" not in html
        assert "****" in html


def test_list_query_count_does_not_grow_with_rows(client, en, django_assert_max_num_queries):
    def make(n):
        for index in range(n):
            person = contact(
                en.rep1,
                f"Person {index}",
                phones=[{"number": f"1381234{index:04d}"}],
                emails=[{"address": f"p{index}@example.com"}],
            )
            services.account_contact_link(
                account=account(en.rep1, f"Company {index}"), contact=person, actor=en.rep1
            )

    client.force_login(en.rep1)
    make(2)
    with django_assert_max_num_queries(40) as few:
        response = client.get(LIST)
    assert len(response.context["rows"]) == 2
    make(10)
    with django_assert_max_num_queries(40) as many:
        response = client.get(LIST)
    assert len(response.context["rows"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_phone_filter_finds_by_digits(client, en):
    contact(en.rep1, "Has Phone", phones=[{"number": "+86 139-0000-1111"}])
    contact(en.rep1, "Other Phone", phones=[{"number": "13700002222"}])
    client.force_login(en.rep1)
    names = [row["record"].name for row in client.get(LIST, {"phone": "1390000"}).context["rows"]]
    assert names == ["Has Phone"]


# --- Create and edit with several phones and e-mails -----------------------------------------
def test_create_saves_several_phones_and_emails_through_the_service(client, en):
    client.force_login(en.rep1)
    data = {"name": "王小明", "title": "采购经理"}
    points_post(data, "phones", [("13812345678", "mobile"), ("010-6512 3456", "work")], primary=1)
    points_post(data, "emails", [("Wang@Example.com", "work"), ("", "home")], primary=0)
    response = client.post(CREATE, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Contact.objects.get(name="王小明")
    assert response["Location"] == detail(person)
    phones = list(person.phones.order_by("id"))
    assert [phone.digits for phone in phones] == ["13812345678", "01065123456"]
    assert [phone.kind for phone in phones] == ["mobile", "work"]
    assert [phone.is_primary for phone in phones] == [False, True]
    assert list(person.emails.values_list("address", flat=True)) == ["Wang@example.com"]
    assert person.owner == en.rep1
    # The search index knows the phones (written after them) and the pinyin of the name.
    assert [hit.pk for hit in search(user=en.rep1, q="65123456")] == [person.pk]
    assert person.pk in [hit.pk for hit in search(user=en.rep1, q="wangxiaoming")]


def test_invalid_phone_is_shown_on_the_field_and_nothing_is_saved(client, en):
    client.force_login(en.rep1)
    data = {"name": "Bad Phone"}
    points_post(data, "phones", [("13812345678", "mobile"), ("12ab", "work")])
    response = client.post(CREATE, data)
    assert response.status_code == 200
    errors = response.context["form"].errors["phones"]
    assert any(error.startswith("Phone 2:") for error in errors)
    assert not Contact.objects.filter(name="Bad Phone").exists()
    # The rows come back as they were typed.
    assert "12ab" in response.content.decode()


def test_edit_replaces_the_phones_and_checks_the_version(client, en):
    person = contact(en.rep1, "Edit Me", phones=[{"number": "13812345678"}])
    client.force_login(en.rep1)
    url = reverse("customers:contact_edit", args=[person.pk])
    form = client.get(url).context["form"]
    assert form.initial["phones"][0]["value"] == "138 1234 5678"
    data = {"name": "Edited", "version": person.version}
    points_post(data, "phones", [("13900001111", "mobile")])
    points_post(data, "emails", [])
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.name == "Edited"
    assert list(person.phones.values_list("digits", flat=True)) == ["13900001111"]
    assert ChangeRecord.objects.filter(object_id=person.pk, after__phones__isnull=False).exists()

    stale = {"name": "Stale", "version": 1}
    points_post(stale, "phones", [("13900001111", "mobile")])
    response = client.post(url, stale)
    assert response.status_code == 200
    assert response.context["conflict"]
    person.refresh_from_db()
    assert person.name == "Edited"


def test_delete_goes_through_the_service_and_removes_links(client, en):
    person = contact(en.rep1, "Delete Me")
    link = services.account_contact_link(
        account=account(en.rep1, "Some Company"), contact=person, actor=en.rep1
    )
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:contact_delete", args=[person.pk]), {"version": person.version}
    )
    assert response.status_code == 302
    assert Contact.all_objects.get(pk=person.pk).is_deleted
    assert AccountContact.all_objects.get(pk=link.pk).is_deleted


# --- Links ----------------------------------------------------------------------------------
def test_link_and_unlink_from_the_contact_page(client, en):
    person = contact(en.rep1, "Linked Person")
    company = account(en.rep1, "Link Co")
    client.force_login(en.rep1)
    response = client.post(
        LINK,
        {
            "account": company.pk,
            "contact": person.pk,
            "role": role("decision_maker").pk,
            "job_title": "CEO",
            "is_primary": "on",
            "next": detail(person),
        },
    )
    assert response.status_code == 302
    link = AccountContact.objects.get(account=company, contact=person)
    assert (link.role.value, link.job_title, link.is_primary) == ("decision_maker", "CEO", True)
    page = client.get(detail(person)).content.decode()
    assert "Link Co" in page and "CEO" in page

    # Linking twice is refused with the service's message.
    response = client.post(LINK, {"account": company.pk, "contact": person.pk}, follow=True)
    assert "already linked" in response.content.decode()

    response = client.post(reverse("customers:account_contact_unlink", args=[link.pk]))
    assert response.status_code == 302
    assert not AccountContact.objects.filter(pk=link.pk).exists()


def test_link_to_an_invisible_account_is_not_found(client, en):
    person = contact(en.rep1, "Mine")
    hidden = account(en.rep3, "Theirs")
    client.force_login(en.rep1)
    response = client.post(LINK, {"account": hidden.pk, "contact": person.pk})
    assert response.status_code == 404
    assert not AccountContact.objects.exists()


def test_read_only_user_may_not_link(client, en):
    person = contact(en.rep1, "Mine")
    company = account(en.rep1, "Mine Co")
    client.force_login(en.read_only)
    response = client.post(LINK, {"account": company.pk, "contact": person.pk})
    assert response.status_code == 403
    assert not AccountContact.objects.exists()


def test_link_edit_page_changes_role_through_the_service(client, en):
    person = contact(en.rep1, "Role Person")
    link = services.account_contact_link(
        account=account(en.rep1, "Role Co"), contact=person, actor=en.rep1
    )
    client.force_login(en.rep1)
    url = reverse("customers:accountcontact_edit", args=[link.pk])
    form = client.get(url).context["form"]
    assert "account" not in form.fields and "contact" not in form.fields
    response = client.post(
        url, {"role": role("influencer").pk, "job_title": "CTO", "version": link.version}
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.role.value, link.job_title) == ("influencer", "CTO")


def test_link_create_page_refuses_an_invisible_contact(client, en):
    company = account(en.rep1, "Create Co")
    hidden = contact(en.rep3, "Hidden Person")
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:accountcontact_create"),
        {"account": company.pk, "contact": hidden.pk, "job_title": "x"},
    )
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert not AccountContact.objects.exists()


def test_choices_list_only_visible_records(client, en):
    contact(en.rep1, "张三")
    contact(en.rep3, "张四")
    client.force_login(en.rep1)
    html = client.get(reverse("customers:contact_choices"), {"q": "张"}).content.decode()
    assert "张三" in html and "张四" not in html
    account(en.rep1, "华东公司")
    account(en.rep3, "华北公司")
    html = client.get(reverse("customers:account_choices"), {"q": "华"}).content.decode()
    assert "华东公司" in html and "华北公司" not in html


# --- Relations ------------------------------------------------------------------------------
def test_relation_add_and_remove(client, en):
    boss = contact(en.rep1, "Boss")
    assistant = contact(en.rep1, "Assistant")
    client.force_login(en.rep1)
    url = reverse("customers:contact_relation_add", args=[assistant.pk])
    response = client.post(url, {"kind": "assistant_of", "to_contact": boss.pk})
    assert response.status_code == 302
    relation = ContactRelation.objects.get()
    assert (relation.from_contact, relation.to_contact, relation.kind) == (
        assistant,
        boss,
        "assistant_of",
    )
    # Both pages show it.
    assert "assistant of" in client.get(detail(assistant)).content.decode()
    assert "Assistant" in client.get(detail(boss)).content.decode()

    remove = reverse("customers:contact_relation_remove", args=[boss.pk, relation.pk])
    assert client.post(remove).status_code == 302
    assert not ContactRelation.objects.exists()


def test_relation_to_an_invisible_contact_is_not_found(client, en):
    mine = contact(en.rep1, "Mine")
    theirs = contact(en.rep3, "Theirs")
    client.force_login(en.rep1)
    url = reverse("customers:contact_relation_add", args=[mine.pk])
    assert client.post(url, {"kind": "reports_to", "to_contact": theirs.pk}).status_code == 404
    # An invisible relation target is never listed on the page either.
    ContactRelation.objects.create(from_contact=mine, to_contact=theirs, kind="spouse_of")
    assert "Theirs" not in client.get(detail(mine)).content.decode()


def test_relation_to_itself_is_refused_with_a_message(client, en):
    mine = contact(en.rep1, "Mine")
    client.force_login(en.rep1)
    url = reverse("customers:contact_relation_add", args=[mine.pk])
    response = client.post(url, {"kind": "reports_to", "to_contact": mine.pk}, follow=True)
    assert "cannot be related to itself" in response.content.decode()
    assert not ContactRelation.objects.exists()


# --- The account page's contacts section -----------------------------------------------------
def test_contacts_section_is_registered_and_lists_links(en):
    assert "contacts" in {section.key for section in account_sections()}
    company = account(en.rep1, "Section Co")
    person = contact(en.rep1, "Section Person", phones=[{"number": "13812345678"}])
    services.account_contact_link(
        account=company, contact=person, actor=en.rep1, role=role("user"), job_title="Engineer"
    )
    data = _contacts_section(account=company, user=en.rep1)
    assert [link.contact.name for link in data["links"]] == ["Section Person"]
    assert data["links"][0].gx_phone == "138 1234 5678"
    assert data["can_link"] and data["link_form"] is not None
    assert not _contacts_section(account=company, user=en.read_only)["can_link"]


def test_account_page_shows_the_contacts_and_membership_sections(client, en):
    company = account(en.rep1, "Render Co")
    person = contact(en.rep1, "Render Person", phones=[{"number": "13812345678"}])
    services.account_contact_link(
        account=company, contact=person, actor=en.rep1, role=role("decision_maker")
    )
    services.points_record(account=company, kind="earn", points=70, reason="Order", actor=en.rep1)
    client.force_login(en.rep1)
    html = client.get(reverse("customers:account_detail", args=[company.pk])).content.decode()
    assert 'id="account-contacts"' in html and "Render Person" in html
    assert reverse("customers:account_contact_link") in html
    membership = reverse("customers:account_section", args=[company.pk, "membership"])
    assert f'hx-get="{membership}"' in html  # loaded when it scrolls into view
    html = client.get(membership).content.decode()
    assert 'id="account-membership"' in html
    assert reverse("customers:points_ledger", args=[company.pk]) in html


# --- Demo data -------------------------------------------------------------------------------
def test_demo_contacts_groups_points_and_duplicates():
    from guanxi.core.demo import load_demo
    from guanxi.customers.duplicates import duplicate_candidates
    from guanxi.customers.models import Group, PointsEntry

    demo = load_demo(verbosity=0, accounts=30)
    companies = [a for a in demo.accounts if a.kind == Account.Kind.COMPANY]
    linked = set(AccountContact.objects.values_list("account_id", flat=True))
    assert {a.pk for a in companies} <= linked
    assert AccountContact.objects.filter(role__isnull=False).count() >= len(companies)
    assert ContactRelation.objects.filter(kind="reports_to").exists()
    assert set(Group.objects.values_list("kind", flat=True)) == {"static", "dynamic"}
    assert PointsEntry.objects.exists()
    # Deliberate duplicates: short names of demo companies with their phones, no extra
    # accounts (the core demo's counts hold).
    from guanxi.customers.demo import _short_name

    assert Account.objects.count() == 30
    originals = {
        _short_name(a.name): a for a in Account.objects.all() if _short_name(a.name) != a.name
    }
    short = next(a for a in Account.objects.all() if a.name in originals)
    assert short.phone == originals[short.name].phone
    hits = duplicate_candidates(
        user=demo.users["sales.manager"],
        name=short.name,
        phones=[short.phone],
        emails=[],
        exclude=short,
    )
    assert hits
    # Running it again adds nothing.
    before = (Contact.objects.count(), Group.objects.count(), PointsEntry.objects.count())
    load_demo(verbosity=0, accounts=30)
    assert (Contact.objects.count(), Group.objects.count(), PointsEntry.objects.count()) == before
