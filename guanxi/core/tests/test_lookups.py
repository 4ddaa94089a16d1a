"""The lookup selects: endpoints answering a few <option>s, and pages that no longer render
every user or department into a <select>."""

import re

import pytest
from django import forms
from django.urls import reverse

from guanxi.core.forms.generic import AssignForm, ShareForm
from guanxi.core.forms.widgets import LookupSelect
from guanxi.core.models import Department, User
from guanxi.core.services.records import record_create

pytestmark = pytest.mark.django_db

USERS = reverse("core:lookup_users")
DEPARTMENTS = reverse("core:lookup_departments")


def option_values(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html)


def many_users(count: int, prefix: str = "zz", **fields) -> list[User]:
    return User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{number:03d}",
                display_name=f"{prefix.upper()} {number:03d}",
                **fields,
            )
            for number in range(count)
        ]
    )


def select_html(html: str, name: str, containing: str = "") -> str:
    """The first select named `name` (that contains `containing`)."""
    for match in re.finditer(rf'<select name="{name}".*?</select>', html, re.S):
        if containing in match.group(0):
            return match.group(0)
    raise AssertionError(f"no select named {name}")


# --- endpoints -------------------------------------------------------------------------------
def test_lookups_require_login(client, org):
    for url in (USERS, DEPARTMENTS):
        response = client.get(url, {"q": "rep"})
        assert response.status_code == 302
        assert reverse("core:login") in response["Location"]


def test_user_lookup_matches_prefix_of_username_or_display_name(client, org):
    org.rep1.display_name = "Wang Fang"
    org.rep1.save(update_fields=["display_name"])
    client.force_login(org.rep2)

    by_username = option_values(client.get(USERS, {"q": "REP"}).content.decode())
    assert str(org.rep1.pk) in by_username and str(org.rep3.pk) in by_username
    assert str(org.admin.pk) not in by_username

    by_name = client.get(USERS, {"q": "wang"}).content.decode()
    assert option_values(by_name) == [str(org.rep1.pk)]
    assert "Wang Fang" in by_name
    # Not a substring search: "fang" is not the start of either field.
    assert option_values(client.get(USERS, {"q": "fang"}).content.decode()) == [""]


def test_user_lookup_lists_only_active_users(client, org):
    org.rep3.is_active = False
    org.rep3.save(update_fields=["is_active"])
    client.force_login(org.rep1)
    values = option_values(client.get(USERS, {"q": "rep"}).content.decode())
    assert str(org.rep1.pk) in values
    assert str(org.rep3.pk) not in values


def test_user_lookup_answers_at_most_20_in_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    many_users(45)
    client.force_login(org.rep1)
    with django_assert_max_num_queries(3):  # session, user, the lookup
        html = client.get(USERS, {"q": "zz"}).content.decode()
    values = option_values(html)
    assert len(values) == 20
    expected = list(
        User.objects.filter(username__startswith="zz")
        .order_by("display_name", "username")
        .values_list("pk", flat=True)[:20]
    )
    assert values == [str(pk) for pk in expected]
    # Without a term: the first 20 active users.
    assert len(option_values(client.get(USERS).content.decode())) == 20


def test_user_lookup_escapes_names(client, org):
    org.rep1.display_name = "<b>Zed</b>"
    org.rep1.save(update_fields=["display_name"])
    client.force_login(org.rep2)
    html = client.get(USERS, {"q": "<b>"}).content.decode()
    assert "&lt;b&gt;Zed&lt;/b&gt;" in html and "<b>" not in html


def test_department_lookup(client, org, django_assert_max_num_queries):
    client.force_login(org.rep1)
    with django_assert_max_num_queries(3):
        html = client.get(DEPARTMENTS, {"q": "华东"}).content.decode()
    assert option_values(html) == [str(org.east.pk)]
    everything = option_values(client.get(DEPARTMENTS).content.decode())
    assert str(org.north.pk) in everything and str(org.service.pk) in everything


# --- the widget ------------------------------------------------------------------------------
class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=LookupSelect(url_name="core:lookup_users"),
    )


def test_widget_renders_only_the_empty_and_selected_options(org, django_assert_num_queries):
    many_users(30)
    empty = OwnerForm().as_p()
    assert option_values(select_html(empty, "owner")) == [""]
    assert f'hx-get="{USERS}"' in empty

    form = OwnerForm(initial={"owner": org.rep2.pk})
    with django_assert_num_queries(1):  # the selected user's label
        html = str(form["owner"])
    select = select_html(html, "owner")
    assert option_values(select) == ["", str(org.rep2.pk)]
    assert f'<option value="{org.rep2.pk}" selected>{org.rep2}</option>' in select


def test_widget_form_still_validates_against_the_queryset(org):
    org.rep3.is_active = False
    org.rep3.save(update_fields=["is_active"])
    assert OwnerForm({"owner": org.rep1.pk}).is_valid()
    assert not OwnerForm({"owner": org.rep3.pk}).is_valid()


def test_assign_and_share_forms_use_lookups(org):
    many_users(30)
    assign = str(AssignForm(initial={"owner": org.rep1.pk})["owner"])
    assert option_values(select_html(assign, "owner")) == ["", str(org.rep1.pk)]
    share = ShareForm()
    assert len(option_values(select_html(str(share["user"]), "user"))) == 1
    assert len(option_values(select_html(str(share["department"]), "department"))) == 1
    bound = ShareForm({"user": org.rep3.pk, "access": "read"})
    assert bound.is_valid(), bound.errors


# --- pages -----------------------------------------------------------------------------------
def test_account_list_does_not_list_every_user(client, org):
    many_users(30)
    Department.objects.bulk_create(
        [Department(name=f"部门{number}", path=f"/x{number}/") for number in range(25)]
    )
    client.force_login(org.admin)
    page = client.get(reverse("customers:account_list")).content.decode()
    assert "ZZ 001" not in page  # the bulk bar's owner select
    response = client.get(reverse("customers:account_list"), {"_panel": "filters"})
    assert response.status_code == 200
    html = response.content.decode()
    owner_select = select_html(html, "owner", containing='value="null"')
    assert len(re.findall(r"<option", owner_select)) < 30
    assert "ZZ 001" not in html
    department_select = select_html(html, "department")
    assert len(re.findall(r"<option", department_select)) < 25
    assert USERS in html and DEPARTMENTS in html


def test_account_list_filter_keeps_the_chosen_owner(client, org):
    many_users(30)
    client.force_login(org.admin)
    html = client.get(
        reverse("customers:account_list"), {"_panel": "filters", "owner": org.rep1.pk}
    ).content.decode()
    # The filter's select: its "(nobody)" choice
    # stays, and the chosen owner is there with its name.
    owner_select = select_html(html, "owner", containing='value="null"')
    assert f'<option value="{org.rep1.pk}" selected>{org.rep1}</option>' in owner_select


def test_account_page_share_form_does_not_list_every_user(client, org):
    many_users(30)
    Account = __import__("guanxi.customers.models", fromlist=["Account"]).Account
    account = record_create(model=Account, data={"name": "Lookup Ltd"}, actor=org.rep1)
    client.force_login(org.rep1)
    response = client.get(reverse("customers:account_detail", args=[account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ZZ 001" not in html
    assert USERS in html
