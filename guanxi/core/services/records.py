"""The base service helpers every write to an owned record goes through.

They validate, keep the version (optimistic locking), soft-delete, and write the audit
history, the timeline and the search index in the same transaction. Domain services call
these rather than `save()` so nothing is ever changed without a trace.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    OwnedModel,
    RecordShare,
    ShareAccess,
    TimelineEntry,
    User,
)
from guanxi.core.request_context import current_request_id
from guanxi.core.scope import can, is_administrator
from guanxi.core.search import index_object, unindex_object
from guanxi.core.services.custom_fields import custom_data_clean

M = TypeVar("M", bound=models.Model)

# Bookkeeping columns that say nothing a reader of the history cares about.
UNAUDITED_FIELDS = {"created_at", "updated_at", "version", "is_deleted", "deleted_at", "deleted_by"}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The record's field values as JSON-ready data, keyed by field name."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in UNAUDITED_FIELDS or field.primary_key:
            continue
        data[field.name] = _json_value(getattr(instance, field.attname))
    return data


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def audit_record(
    *,
    instance: models.Model,
    action: str,
    actor: User | None,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
) -> ChangeRecord:
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action=action,
        actor=actor if actor and actor.pk else None,
        request_id=current_request_id(),
        before=before,
        after=after,
        message=message[:500],
    )


def timeline_add(
    *,
    record: models.Model,
    kind: str,
    text: str,
    actor: User | None,
    account_id: int | None = None,
    data: dict | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record, for_concrete_model=False),
        object_id=record.pk,
        kind=kind,
        text=text,
        actor=actor if actor and actor.pk else None,
        account_id=account_id,
        data=data or {},
    )


def require_permission(*, actor: User, model: type[models.Model], action: str) -> None:
    if not can(actor, model, action):
        raise ActionNotAllowed(_("You are not allowed to do this."))


def _apply(instance: models.Model, data: dict[str, Any]) -> None:
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if isinstance(field, models.ManyToManyField):
            raise ValueError(f"{name} is many-to-many; set it after saving")
        setattr(instance, name, value)


@transaction.atomic
def record_create(
    *, model: type[M], data: dict[str, Any], actor: User, custom_data: dict | None = None
) -> M:
    """Create an owned record: the actor owns it unless `data` names an owner."""
    instance = model()
    _apply(instance, data)
    if isinstance(instance, OwnedModel):
        if "owner" not in data and "owner_id" not in data:
            instance.owner = actor
        if instance.owner_id and "department" not in data and "department_id" not in data:
            instance.department_id = (
                User.objects.filter(pk=instance.owner_id)
                .values_list("department_id", flat=True)
                .first()
            )
        instance.created_by = actor
        instance.custom_data = custom_data_clean(model=model, data=custom_data or {})
    instance.full_clean()
    instance.save()
    audit_record(
        instance=instance, action=ChangeAction.CREATE, actor=actor, after=snapshot(instance)
    )
    index_object(instance)
    return instance


@transaction.atomic
def record_update(
    *,
    instance: M,
    data: dict[str, Any],
    actor: User,
    version: int | None = None,
    custom_data: dict | None = None,
    action: str = ChangeAction.UPDATE,
    message: str = "",
) -> M:
    """Change fields of a record; refuse when `version` is stale (someone saved in between)."""
    model = type(instance)
    before = snapshot(instance)
    _apply(instance, data)
    if custom_data is not None and isinstance(instance, OwnedModel):
        merged = {**instance.custom_data, **custom_data}
        instance.custom_data = custom_data_clean(model=model, data=merged)
    instance.full_clean()
    if isinstance(instance, OwnedModel):
        expected = instance.version if version is None else int(version)
        bumped = model.all_objects.filter(pk=instance.pk, version=expected).update(
            version=F("version") + 1
        )
        if not bumped:
            current = model.all_objects.filter(pk=instance.pk).values_list("version", flat=True)
            raise VersionConflict(current_version=current.first() or 0)
        instance.version = expected + 1
    instance.save()
    old, new = _diff(before, snapshot(instance))
    if old or new:
        audit_record(
            instance=instance, action=action, actor=actor, before=old, after=new, message=message
        )
    index_object(instance)
    return instance


@transaction.atomic
def record_delete(*, instance: OwnedModel, actor: User, version: int | None = None) -> None:
    """Move a record to the recycle bin."""
    model = type(instance)
    expected = instance.version if version is None else int(version)
    moved = model.all_objects.filter(pk=instance.pk, version=expected, is_deleted=False).update(
        is_deleted=True,
        deleted_at=timezone.now(),
        deleted_by=actor,
        version=F("version") + 1,
    )
    if not moved:
        current = model.all_objects.filter(pk=instance.pk).values_list("version", flat=True)
        raise VersionConflict(current_version=current.first() or 0)
    instance.is_deleted = True
    instance.version = expected + 1
    audit_record(
        instance=instance, action=ChangeAction.DELETE, actor=actor, before=snapshot(instance)
    )
    unindex_object(instance)


@transaction.atomic
def record_restore(*, model: type[OwnedModel], pk: int, actor: User) -> OwnedModel:
    """Bring a record back from the recycle bin (administrators only)."""
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can restore deleted records."))
    instance = model.all_objects.select_for_update().get(pk=pk, is_deleted=True)
    instance.is_deleted = False
    instance.deleted_at = None
    instance.deleted_by = None
    instance.version += 1
    instance.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "version", "updated_at"])
    audit_record(
        instance=instance, action=ChangeAction.RESTORE, actor=actor, after=snapshot(instance)
    )
    index_object(instance)
    return instance


@transaction.atomic
def record_purge(*, model: type[OwnedModel], pk: int, actor: User) -> None:
    """Delete a record from the recycle bin for good; its history stays."""
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can empty the recycle bin."))
    instance = model.all_objects.get(pk=pk, is_deleted=True)
    audit_record(
        instance=instance, action=ChangeAction.PURGE, actor=actor, before=snapshot(instance)
    )
    instance.delete()


@transaction.atomic
def record_assign(
    *, instance: OwnedModel, owner: User, actor: User, reason: str = "", version: int | None = None
) -> OwnedModel:
    """Transfer a record to a new owner (and their department), with a reason."""
    previous = instance.owner
    record_update(
        instance=instance,
        data={"owner": owner, "department_id": owner.department_id},
        actor=actor,
        version=version,
        action=ChangeAction.ASSIGN,
        message=reason,
    )
    text = _("Owner changed from %(old)s to %(new)s.") % {
        "old": previous or _("nobody"),
        "new": owner,
    }
    if reason:
        text = f"{text} {_('Reason')}: {reason}"
    timeline_add(
        record=instance,
        kind="owner_changed",
        text=text,
        actor=actor,
        data={"from": previous.pk if previous else None, "to": owner.pk, "reason": reason},
    )
    return instance


@transaction.atomic
def record_share(
    *,
    instance: OwnedModel,
    actor: User,
    user: User | None = None,
    department=None,
    access: str = ShareAccess.READ,
    expires_at: datetime.datetime | None = None,
) -> RecordShare:
    if user is None and department is None:
        raise ValidationError(_("Choose a user or a department to share with."))
    if access not in ShareAccess.values:
        raise ValidationError({"access": [_("Choose read or read and write.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry must be in the future.")]})
    share = RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        user=user,
        department=department,
        access=access,
        expires_at=expires_at,
        created_by=actor,
    )
    audit_record(
        instance=instance,
        action=ChangeAction.SHARE,
        actor=actor,
        after={
            "user": user.pk if user else None,
            "department": department.pk if department else None,
            "access": access,
            "expires_at": _json_value(expires_at),
        },
    )
    return share


@transaction.atomic
def records_share(
    *,
    records: list[OwnedModel],
    actor: User,
    user: User | None = None,
    department=None,
    access: str = ShareAccess.READ,
    expires_at: datetime.datetime | None = None,
) -> None:
    """Share each record with a user or a department: all of them or, on an error, none."""
    for instance in records:
        record_share(
            instance=instance,
            actor=actor,
            user=user,
            department=department,
            access=access,
            expires_at=expires_at,
        )


@transaction.atomic
def record_unshare(*, share: RecordShare, actor: User) -> None:
    instance = share.record
    before = {"user": share.user_id, "department": share.department_id, "access": share.access}
    share.delete()
    if instance is not None:
        audit_record(instance=instance, action=ChangeAction.UNSHARE, actor=actor, before=before)


def _bulk_owner_departments(owner_ids: set[int]) -> dict[int, int | None]:
    return dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "department_id"))


@transaction.atomic
def record_bulk_create(
    *,
    model: type[M],
    items: list[tuple[dict[str, Any], dict | None]],
    actor: User,
) -> list[M | ValidationError]:
    """Create many owned records at once (imports): the same validation and audit as
    `record_create`, written with bulk inserts.

    Returns, per item, the created record or the ValidationError that refused it; refused
    items do not stop the others. Search indexing runs in a background job after commit.
    Foreign keys must be given as model instances the caller already looked up, so they are
    not fetched again row by row.
    """
    from guanxi.core.services.custom_fields import custom_fields_for

    fields = custom_fields_for(model)
    fk_names = [f.name for f in model._meta.concrete_fields if f.is_relation]
    owner_ids = {
        getattr(data.get("owner"), "pk", None) or data.get("owner_id") or actor.pk
        for data, _custom in items
    }
    departments = _bulk_owner_departments({pk for pk in owner_ids if pk})
    results: list[M | ValidationError] = []
    valid: list[M] = []
    for data, custom in items:
        instance = model()
        try:
            _apply(instance, data)
            if "owner" not in data and "owner_id" not in data:
                instance.owner = actor
            if instance.owner_id and "department" not in data and "department_id" not in data:
                instance.department_id = departments.get(instance.owner_id)
            instance.created_by = actor
            instance.custom_data = custom_data_clean(model=model, data=custom or {}, fields=fields)
            instance.clean_fields(exclude=fk_names)
            instance.clean()
        except ValidationError as error:
            results.append(error)
            continue
        results.append(instance)
        valid.append(instance)
    model.objects.bulk_create(valid, batch_size=500)
    content_type = ContentType.objects.get_for_model(model)
    request_id = current_request_id()
    ChangeRecord.objects.bulk_create(
        [
            ChangeRecord(
                content_type=content_type,
                object_id=instance.pk,
                object_repr=str(instance)[:200],
                action=ChangeAction.CREATE,
                actor=actor,
                request_id=request_id,
                after=snapshot(instance),
            )
            for instance in valid
        ],
        batch_size=500,
    )
    if valid:
        from guanxi.core.tasks import index_records_task

        ids = [instance.pk for instance in valid]
        label = model._meta.label_lower
        transaction.on_commit(lambda: index_records_task(label, ids))
    return results
