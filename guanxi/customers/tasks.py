"""Background jobs of the customers app (Huey; immediate under tests)."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import User
from guanxi.core.scope import is_administrator
from guanxi.customers.duplicates import duplicate_scan_run, duplicate_sources
from guanxi.customers.models import DuplicateScan


@db_task()
def duplicate_scan_task(scan_id: int) -> None:
    """Run one duplicate scan (the scan records its progress and outcome itself)."""
    scan = DuplicateScan.objects.filter(pk=scan_id).first()
    if scan is None or scan.status == DuplicateScan.Status.DONE:
        return
    duplicate_scan_run(scan=scan)


def scannable_models() -> list[type[models.Model]]:
    """The models a duplicate scan can run on (every registered duplicate source)."""
    return [source.model for source in duplicate_sources()]


def duplicate_scan_start(*, model: type[models.Model], actor: User) -> DuplicateScan:
    """Queue a scan of `model` for duplicates (administrators only)."""
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can scan for duplicates."))
    if model not in scannable_models():
        raise ActionNotAllowed(_("These records cannot be scanned for duplicates."))
    scan = DuplicateScan.objects.create(model_label=model._meta.label_lower, created_by=actor)
    # After commit: a worker must find the scan row.
    transaction.on_commit(lambda: duplicate_scan_task(scan.pk))
    return scan
