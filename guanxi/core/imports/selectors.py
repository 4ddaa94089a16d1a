"""Reads of the import engine. A job is seen by its creator and by administrators only;
anybody else gets a 404, never a 403."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from guanxi.core.models import ImportJob, ImportRowError, User
from guanxi.core.scope import is_administrator


def import_jobs_visible(*, user: User) -> QuerySet[ImportJob]:
    if not user.is_authenticated:
        return ImportJob.objects.none()
    if is_administrator(user):
        return ImportJob.objects.all()
    return ImportJob.objects.filter(Q(created_by_id=user.pk))


def import_job_get_visible(*, user: User, pk) -> ImportJob:
    job = import_jobs_visible(user=user).select_related("created_by").filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def import_job_errors(*, job: ImportJob, limit: int | None = None) -> list[ImportRowError]:
    queryset = job.row_errors.order_by("line", "id")
    return list(queryset[:limit] if limit else queryset)
