"""The notifications bell: a dropdown of the latest, a full list, marking as read."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.models import Notification
from guanxi.core.services.notifications import (
    notification_mark_read,
    notifications_for,
    unread_count,
)

DROPDOWN_SIZE = 10
PAGE_SIZE = 25


def page_slice(queryset, request, per_page: int = PAGE_SIZE) -> dict:
    """One page of a queryset without counting the whole table: fetch one row more."""
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return {
        "items": rows[:per_page],
        "number": page,
        "has_next": len(rows) > per_page,
        "has_previous": page > 1,
        "next_number": page + 1,
        "previous_number": page - 1,
    }


def _local(request, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@login_required
def notification_list(request):
    queryset = notifications_for(request.user)
    if request.GET.get("unread"):
        queryset = queryset.filter(is_read=False)
    return render(
        request,
        "core/notifications/list.html",
        {"page": page_slice(queryset, request), "only_unread": bool(request.GET.get("unread"))},
    )


@login_required
def notification_dropdown(request):
    latest = list(notifications_for(request.user)[:DROPDOWN_SIZE])
    # After marking one read, come back to the page the bell was opened on.
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    next_url = current.path + (f"?{current.query}" if current.query else "")
    if not _local(request, next_url):
        next_url = reverse("core:notification_list")
    return render(
        request,
        "core/notifications/dropdown.html",
        {"notifications": latest, "unread": unread_count(request.user), "next_url": next_url},
    )


@require_POST
@login_required
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(user=request.user, ids=[notification.pk])
    if request.POST.get("open") and _local(request, notification.url):
        return redirect(notification.url)
    target = request.POST.get("next", "")
    return redirect(target if _local(request, target) else "core:notification_list")


@require_POST
@login_required
def notification_read_all(request):
    count = notification_mark_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    target = request.POST.get("next", "")
    return redirect(target if _local(request, target) else "core:notification_list")
