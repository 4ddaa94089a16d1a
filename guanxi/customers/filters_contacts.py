"""List filters of the contact, link and group pages. Each filter has an index behind it."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from guanxi.core.models import Department, PicklistOption, User
from guanxi.core.phones import phone_digits
from guanxi.customers.models import AccountContact, Contact, ContactPhone, Group


def _users(request):
    return User.objects.filter(is_active=True).order_by("display_name", "username")


def _departments(request):
    return Department.objects.order_by("path")


def _roles(request):
    return PicklistOption.objects.filter(picklist__code="contact_role", is_active=True).order_by(
        "sort_order", "id"
    )


def contacts_with_phone(queryset, digits: str):
    """Contacts with a phone whose digits start with `digits` (one indexed EXISTS)."""
    return queryset.filter(
        Exists(ContactPhone.objects.filter(contact_id=OuterRef("pk"), digits__startswith=digits))
    )


class ContactFilterSet(django_filters.FilterSet):
    phone = django_filters.CharFilter(label=_("phone"), method="filter_phone")
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=_users)
    department = django_filters.ModelChoiceFilter(label=_("department"), queryset=_departments)
    account = django_filters.NumberFilter(
        label=_("account"), method="filter_account", widget=forms.HiddenInput
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("created between"), widget=DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = Contact
        fields = ["phone", "owner", "department", "account", "created_at"]

    def filter_phone(self, queryset, name, value):
        digits = phone_digits(value) or "".join(ch for ch in value if ch.isdigit())
        return contacts_with_phone(queryset, digits) if digits else queryset

    def filter_account(self, queryset, name, value):
        links = AccountContact.objects.filter(contact_id=OuterRef("pk"), account_id=value)
        return queryset.filter(Exists(links))


class AccountContactFilterSet(django_filters.FilterSet):
    role = django_filters.ModelChoiceFilter(label=_("role"), queryset=_roles)
    is_primary = django_filters.BooleanFilter(label=_("primary contact"))
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=_users)

    class Meta:
        model = AccountContact
        fields = ["role", "is_primary", "owner"]


class GroupFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("type"), choices=Group.Kind.choices)
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=_users)

    class Meta:
        model = Group
        fields = ["kind", "owner"]


# --- The account list's group filter (declared on AccountFilterSet) ----------------------
def _visible_groups(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Group.objects.none()
    return Group.objects.visible_to(user).order_by("name", "pk")


def accounts_in_group(queryset, name, group):
    """Accounts of a static group (its members) or a dynamic one (its saved filter)."""
    from django.core.exceptions import ValidationError

    from guanxi.customers.groups import conditions_q
    from guanxi.customers.models import GroupMember

    if not group:
        return queryset
    if group.kind == Group.Kind.DYNAMIC:
        try:
            return queryset.filter(conditions_q(group.conditions))
        except ValidationError:
            return queryset.none()
    members = GroupMember.objects.filter(group=group, account_id=OuterRef("pk"))
    return queryset.filter(Exists(members))


class AccountGroupFilter(django_filters.ModelChoiceFilter):
    """Accounts in one of the groups the user can see."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("group"))
        kwargs.setdefault("queryset", _visible_groups)
        kwargs.setdefault("method", accounts_in_group)
        super().__init__(*args, **kwargs)
