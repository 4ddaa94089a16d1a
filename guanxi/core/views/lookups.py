"""Lookup endpoints of `LookupSelect` (guanxi.core.forms.widgets): up to 20 `<option>`s
matching what the user typed (`?q=`), so no page renders a whole table into a select."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanxi.core.models import Department, User

LOOKUP_LIMIT = 20


def _term(request) -> str:
    return (request.GET.get("q") or "").strip()[:100]


def _options(pairs) -> HttpResponse:
    pairs = list(pairs)
    if not pairs:
        body = format_html('<option value="" disabled>{}</option>', _("Nothing found"))
    else:
        body = format_html_join("", '<option value="{}">{}</option>', pairs)
    return HttpResponse(body)


@require_GET
@login_required
def lookup_users(request):
    """Active users whose display name or username starts with ?q= (all when empty)."""
    term = _term(request)
    users = User.objects.filter(is_active=True)
    if term:
        users = users.filter(Q(display_name__istartswith=term) | Q(username__istartswith=term))
    users = users.order_by("display_name", "username").only(
        "pk", "display_name", "username", "first_name", "last_name"
    )[:LOOKUP_LIMIT]
    return _options((user.pk, str(user)) for user in users)


@require_GET
@login_required
def lookup_departments(request):
    """Departments whose name contains ?q= (all when empty), in tree order."""
    term = _term(request)
    departments = Department.objects.all()
    if term:
        departments = departments.filter(name__icontains=term)
    departments = departments.order_by("path").only("pk", "name", "path")[:LOOKUP_LIMIT]
    return _options((department.pk, str(department)) for department in departments)
