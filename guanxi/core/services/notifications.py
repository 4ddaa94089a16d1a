"""In-app notifications (the bell), optionally e-mailed after the transaction commits."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction

from guanxi.core.models import Notification, User


def notification_send(
    *,
    recipient: User,
    kind: str,
    text: str,
    url: str = "",
    actor: User | None = None,
    email: bool = False,
) -> Notification:
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, text=text[:500], url=url
    )
    if email and recipient.email:
        transaction.on_commit(
            lambda: send_mail(text[:120], f"{text}\n\n{url}", None, [recipient.email])
        )
    return notification


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when `ids` is None)."""
    unread = Notification.objects.filter(recipient=user, is_read=False)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(is_read=True)


def notifications_for(user: User):
    return Notification.objects.filter(recipient=user).select_related("actor")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, is_read=False).count()


__all__ = ["notification_mark_read", "notification_send", "notifications_for", "unread_count"]
