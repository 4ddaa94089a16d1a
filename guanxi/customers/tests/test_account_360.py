"""The account 360° page: header, value figures, registered sections, relationship map,
masking with a logged reveal, bounded queries."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import ChangeAction, ChangeRecord, PicklistOption
from guanxi.customers import account_hooks, sections
from guanxi.customers.models import Account, ContactRelation
from guanxi.customers.services import (
    account_create,
    contact_create,
    contact_relation_add,
    group_add_accounts,
    group_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def role(value):
    return PicklistOption.objects.get(picklist__code="contact_role", value=value)


def detail(account):
    return reverse("customers:account_detail", args=[account.pk])


def section_url(account, key):
    return reverse("customers:account_section", args=[account.pk, key])


def add_contacts(account, actor, count, start=0):
    people = []
    for index in range(start, start + count):
        people.append(
            contact_create(
                actor=actor,
                data={"name": f"Person {index}"},
                phones=[{"number": f"1390000{index:04d}"}],
                emails=[{"address": f"p{index}@example.com"}],
                account=account,
                role=role("decision_maker" if index % 2 else "influencer"),
                job_title=f"Title {index}",
            )
        )
    return people


def test_page_shows_header_figures_and_registered_sections(client, en):
    account = account_create(
        actor=en.rep1,
        data={"name": "华东机械", "phone": "13800138000", "province": "上海市", "city": "上海市"},
    )
    client.force_login(en.rep1)
    response = client.get(detail(account))
    assert response.status_code == 200
    html = response.content.decode()
    assert "138 0013 8000" in html
    keys = [section["key"] for section in response.context["account_sections"]]
    for key in ("relationships", "groups", "timeline", "attachments", "shares"):
        assert key in keys
        assert f'id="section-{key}"' in html
    figures = {figure["key"]: figure["value"] for figure in response.context["figures"]}
    assert figures == {
        "lifetime_revenue": "—",
        "last_purchase": "—",
        "clv": "—",
        "rfm": "—",
    }
    assert "vendor/echarts/echarts.min.js" in html


@pytest.fixture
def probe_template(settings, tmp_path):
    (tmp_path / "section_probe.html").write_text("probe: {{ message }}")
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [*templates[0].get("DIRS", []), tmp_path]
    settings.TEMPLATES = templates
    return "section_probe.html"


@pytest.fixture
def probe_section(probe_template):
    """register(key, what, lazy=False): a section rendering "probe: <what> of <account>";
    answers the (account pk, user pk) it was asked for. Removed after the test."""
    keys, seen = [], []

    def register(key, what, lazy=False):
        def context(*, account, user):
            seen.append((account.pk, user.pk))
            return {"message": f"{what} of {account.name}"}

        sections.register_account_section(
            sections.AccountSection(
                key=key,
                title=what,
                template=probe_template,
                context=context,
                order=50,
                lazy=lazy,
            )
        )
        keys.append(key)
        return seen

    yield register
    for key in keys:
        sections._sections.pop(key, None)


def test_later_apps_add_sections_and_fill_figures(client, en, probe_section):
    account = account_create(actor=en.rep1, data={"name": "Plugged"})
    seen = probe_section("test_orders", "orders")
    registered = account_hooks._figures["lifetime_revenue"]
    account_hooks.register_account_figure("lifetime_revenue", "Lifetime revenue", lambda a: 1234)
    try:
        client.force_login(en.rep1)
        html = client.get(detail(account)).content.decode()
    finally:
        account_hooks._figures["lifetime_revenue"] = registered
    assert seen == [(account.pk, en.rep1.pk)]
    assert 'id="section-test_orders"' in html
    assert "probe: orders of Plugged" in html
    assert 'data-figure="lifetime_revenue"' in html
    assert ">1234<" in html


def test_relationship_map_data(client, en):
    account = account_create(actor=en.rep1, data={"name": "Graph Co"})
    boss, assistant = add_contacts(account, en.rep1, 2)
    contact_relation_add(
        from_contact=assistant,
        to_contact=boss,
        kind=ContactRelation.Kind.ASSISTANT_OF,
        actor=en.rep1,
    )
    client.force_login(en.rep1)
    assert 'id="relationship-graph-data"' not in client.get(detail(account)).content.decode()
    response = client.get(section_url(account, "relationships"))
    html = response.content.decode()
    start = html.index('id="relationship-graph-data"')
    payload = html[html.index(">", start) + 1 : html.index("</script>", start)]
    graph = json.loads(payload)
    assert {node["name"] for node in graph["nodes"]} == {"Person 0", "Person 1"}
    assert {node["role"] for node in graph["nodes"]} == {"influencer", "decision_maker"}
    assert graph["edges"] == [
        {
            "source": assistant.pk,
            "target": boss.pk,
            "kind": "assistant_of",
            "label": "assistant of",
        }
    ]
    assert "<li>Person 1 assistant of Person 0</li>" in html  # for screen readers
    assert {category["key"] for category in graph["categories"]} == {
        "influencer",
        "decision_maker",
    }


def test_groups_section_lists_static_and_dynamic_groups(client, en):
    account = account_create(actor=en.rep1, data={"name": "Grouped", "province": "北京市"})
    static = group_create(actor=en.rep1, data={"name": "VIP list", "kind": "static"})
    group_add_accounts(group=static, accounts=[account], actor=en.rep1)
    group_create(
        actor=en.rep1,
        data={
            "name": "Beijing",
            "kind": "dynamic",
            "conditions": {
                "match": "all",
                "conditions": [{"field": "province", "op": "eq", "value": "北京市"}],
            },
        },
    )
    group_create(actor=en.rep1, data={"name": "Empty list", "kind": "static"})
    client.force_login(en.rep1)
    section = client.get(section_url(account, "groups")).content.decode()
    assert "VIP list" in section and "Beijing" in section
    assert "Empty list" not in section


def test_lazy_sections_are_left_out_of_the_page_and_answered_on_their_own(
    client, en, probe_section
):
    account = account_create(actor=en.rep1, data={"name": "Lazy Co"})
    seen = probe_section("test_quotes", "quotes", lazy=True)
    client.force_login(en.rep1)
    html = client.get(detail(account)).content.decode()
    assert seen == []
    assert 'id="section-test_quotes"' in html and "probe:" not in html
    url = section_url(account, "test_quotes")
    assert f'hx-get="{url}" hx-trigger="intersect once"' in html
    # The registered lazy sections wait too, each with its own address.
    for key in ("relationships", "groups", "opportunities", "activity_history"):
        assert f'hx-get="{section_url(account, key)}"' in html
    assert 'hx-get="{}"'.format(section_url(account, "contacts")) not in html

    response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode() == "probe: quotes of Lazy Co"
    assert seen == [(account.pk, en.rep1.pk)]


def test_a_section_answers_404_for_an_invisible_account_or_an_unknown_key(client, en):
    north = account_create(actor=en.rep3, data={"name": "North"})
    own = account_create(actor=en.rep1, data={"name": "Own"})
    client.force_login(en.rep1)
    assert client.get(section_url(north, "relationships")).status_code == 404
    assert client.get(section_url(own, "no-such-section")).status_code == 404
    assert client.post(section_url(own, "relationships")).status_code == 405
    assert client.get(section_url(own, "relationships")).status_code == 200


def test_a_section_needs_the_view_permission(client, en):
    from guanxi.core.tests.factories import user_with_permissions

    account = account_create(actor=en.admin, data={"name": "Guarded"})
    blind = user_with_permissions({"customers.contact": ["view"]})
    client.force_login(blind)
    assert client.get(section_url(account, "groups")).status_code == 403


def test_a_section_is_a_fragment_without_the_menus_unread_count(client, en):
    account = account_create(actor=en.rep1, data={"name": "Quiet"})
    client.force_login(en.rep1)
    client.get(section_url(account, "membership"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(section_url(account, "membership"))
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert not [q for q in captured if "core_notification" in q["sql"]]


def test_invisible_account_is_404(client, en):
    account = account_create(actor=en.rep3, data={"name": "North"})
    client.force_login(en.rep1)
    assert client.get(detail(account)).status_code == 404


def test_share_error_re_renders_the_full_page(client, en):
    account = account_create(actor=en.rep1, data={"name": "Share Error"})
    client.force_login(en.rep1)
    response = client.post(reverse("customers:account_share", args=[account.pk]), {})
    assert response.status_code == 400
    assert response.context["account_sections"]
    assert 'id="section-shares"' in response.content.decode()


def _queries(client, account, django_assert_max_num_queries, limit=200):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(detail(account))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_query_count_is_bounded_and_does_not_grow_with_contacts(
    client, en, django_assert_max_num_queries
):
    account = account_create(actor=en.rep1, data={"name": "Busy"})
    people = add_contacts(account, en.rep1, 2)
    contact_relation_add(
        from_contact=people[0], to_contact=people[1], kind="reports_to", actor=en.rep1
    )
    client.force_login(en.rep1)
    client.get(detail(account))  # warm per-process caches
    few = _queries(client, account, django_assert_max_num_queries)
    assert few <= 60, few  # every registered section included
    more = add_contacts(account, en.rep1, 12, start=2)
    for index in range(len(more) - 1):
        contact_relation_add(
            from_contact=more[index], to_contact=more[index + 1], kind="reports_to", actor=en.rep1
        )
    client.get(detail(account))
    many = _queries(client, account, django_assert_max_num_queries)
    assert many <= few


# --- Masking -------------------------------------------------------------------------------
@pytest.fixture
def masked(en):
    """rep1's role may not see phone numbers and e-mails."""
    role_obj = en.rep1.roles.get()
    role_obj.see_contact_details = False
    role_obj.save()
    return en


def test_masked_role_sees_masked_values_and_reveal_is_logged(client, masked):
    en = masked
    account = account_create(
        actor=en.rep1, data={"name": "Masked", "phone": "13800138000", "email": "li@example.com"}
    )
    client.force_login(en.rep1)
    html = client.get(detail(account)).content.decode()
    assert "138****8000" in html
    assert "l***@example.com" in html
    assert "138 0013 8000" not in html and "li@example.com" not in html
    # Not in the history either.
    assert "13800138000" not in html

    reveal = reverse("customers:account_reveal", args=[account.pk])
    assert client.get(reveal).status_code == 405
    response = client.post(reveal, {"field": "phone"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "138 0013 8000" in response.content.decode()
    change = ChangeRecord.objects.get(
        content_type=ContentType.objects.get_for_model(Account),
        object_id=account.pk,
        action=ChangeAction.REVEAL,
    )
    assert change.actor == en.rep1
    assert change.after == {"revealed": ["phone"]}
    assert client.post(reveal, {"field": "name"}).status_code == 404

    # Somebody who may see them sees them, and nothing is logged for them.
    client.force_login(en.manager)
    html = client.get(detail(account)).content.decode()
    assert "138 0013 8000" in html
    client.post(reveal, {"field": "email"})
    assert ChangeRecord.objects.filter(action=ChangeAction.REVEAL).count() == 1


def test_reveal_of_an_invisible_account_is_404(client, masked):
    account = account_create(actor=masked.rep3, data={"name": "North", "phone": "13800138000"})
    client.force_login(masked.rep1)
    response = client.post(
        reverse("customers:account_reveal", args=[account.pk]), {"field": "phone"}
    )
    assert response.status_code == 404
    assert not ChangeRecord.objects.filter(action=ChangeAction.REVEAL).exists()


def test_masked_list_and_edit_form(client, masked):
    en = masked
    account = account_create(
        actor=en.rep1, data={"name": "Listed", "phone": "13800138000", "email": "li@example.com"}
    )
    client.force_login(en.rep1)
    html = client.get(reverse("customers:account_list"), {"col": ["name", "phone", "email"]})
    html = html.content.decode()
    assert "138****8000" in html and "l***@example.com" in html
    assert "138 0013 8000" not in html
    edit_url = reverse("customers:account_edit", args=[account.pk])
    form = client.get(edit_url).context["form"]
    assert "phone" not in form.fields and "email" not in form.fields
    response = client.post(
        edit_url,
        {"name": "Listed 2", "kind": "company", "phone": "1", "version": account.version},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Listed 2"
    assert account.phone == "138 0013 8000"  # untouched


def test_role_admin_screen_switches_contact_details_off(client, en):
    from guanxi.core.models import Role

    role_obj = en.rep1.roles.get()
    url = reverse("core:role_edit", args=[role_obj.pk])
    client.force_login(en.admin)
    page = client.get(url)
    assert page.context["form"]["see_contact_details"].value() is True
    data = {
        "name_zh": role_obj.name_zh,
        "name_en": role_obj.name_en,
        "data_scope": role_obj.data_scope,
        "perm__*__view": "on",
        "perm__*__add": "on",
        "perm__*__change": "on",
        "perm__*__delete": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert Role.objects.get(pk=role_obj.pk).see_contact_details is False
    client.post(url, {**data, "see_contact_details": "on"})
    assert Role.objects.get(pk=role_obj.pk).see_contact_details is True


def test_the_page_reads_related_records_with_the_account_and_each_picklist_once(client, en):
    """The owner, department, picklist values and account manager come with the account's
    own statement, and the activity types and follow-up channels are read once a request
    although three sections show them."""
    import datetime

    from django.utils import timezone

    from guanxi.activities.services import activity_create, follow_up_create
    from guanxi.core.tests.factories import picklist_option as option
    from guanxi.customers.tests.factories import classified_account

    account = classified_account(actor=en.rep1, name="Related Reads", account_manager=en.rep2)
    soon = timezone.now() + datetime.timedelta(days=1)
    activity_create(
        actor=en.rep1, data={"subject": "Call back", "start_at": soon}, regarding=account
    )
    follow_up_create(
        actor=en.rep1,
        regarding=account,
        channel=option("follow_up_channel", "phone").value,
        content="Talked about the order",
    )
    client.force_login(en.rep1)
    client.get(detail(account))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(detail(account))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Call back" in page and "Talked about the order" in page
    assert option("industry", "it").label in page and en.rep2.display_name in page
    statements = [query["sql"] for query in captured]
    lazy_option_loads = [sql for sql in statements if 'WHERE "core_picklistoption"."id" = ' in sql]
    assert lazy_option_loads == []
    lazy_user_loads = [sql for sql in statements if 'WHERE "core_user"."id" = ' in sql]
    assert len(lazy_user_loads) == 1  # the signed-in user, by the session
    assert not [sql for sql in statements if 'WHERE "core_department"."id" = ' in sql]
    # The open activities' owner and account are read after their rows, not joined.
    activity_rows = [sql for sql in statements if 'FROM "activities_activity"' in sql]
    assert activity_rows and not [sql for sql in activity_rows if " JOIN " in sql]
    # ... and the page's account is not read again for them.
    assert not [sql for sql in statements if '"customers_account"."id" IN (' in sql]
    for code in ("activity_type", "follow_up_channel"):
        reads = [sql for sql in statements if "core_picklistoption" in sql and f"'{code}'" in sql]
        assert len(reads) == 1, (code, reads)
