"""Reads about web-to-lead forms (administrators' screens)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from guanxi.leads.models import WebForm, WebFormSubmission


def web_form_list() -> QuerySet[WebForm]:
    """Every form with its accepted and refused submission counts (one query)."""
    return (
        WebForm.objects.select_related("owner", "pool", "source")
        .annotate(
            accepted_count=Count("submissions", filter=Q(submissions__accepted=True)),
            refused_count=Count("submissions", filter=Q(submissions__accepted=False)),
        )
        .order_by("name", "pk")
    )


def web_form_submissions(*, form: WebForm, limit: int = 20) -> list[WebFormSubmission]:
    return list(form.submissions.select_related("lead").order_by("-created_at", "-pk")[:limit])


def web_form_by_key(key: str) -> WebForm | None:
    return WebForm.objects.select_related("source").filter(key=key).first()
