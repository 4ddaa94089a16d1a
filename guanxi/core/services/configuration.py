"""Picklists, custom fields and tags: configuration an administrator edits as data."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.core.models import (
    ChangeAction,
    CustomField,
    CustomFieldType,
    Picklist,
    PicklistOption,
    Tag,
    TaggedItem,
    User,
)
from guanxi.core.request_context import forget_request_memo
from guanxi.core.services.organisation import require_administrator
from guanxi.core.services.records import audit_record, snapshot


def _save_audited(instance: models.Model, actor: User | None, before: dict | None) -> None:
    instance.full_clean()
    instance.save()
    forget_request_memo()  # the rest of this request reads the new options
    after = snapshot(instance)
    if before is None:
        audit_record(instance=instance, action=ChangeAction.CREATE, actor=actor, after=after)
        return
    changed = [key for key in after if before.get(key) != after.get(key)]
    if changed:
        audit_record(
            instance=instance,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={key: before.get(key) for key in changed},
            after={key: after.get(key) for key in changed},
        )


@transaction.atomic
def picklist_create(*, actor: User | None, code: str, name_zh: str, name_en: str) -> Picklist:
    require_administrator(actor)
    picklist = Picklist(code=code, name_zh=name_zh, name_en=name_en)
    _save_audited(picklist, actor, None)
    return picklist


@transaction.atomic
def picklist_update(*, picklist: Picklist, actor: User | None, **fields: Any) -> Picklist:
    require_administrator(actor)
    before = snapshot(picklist)
    for name, value in fields.items():
        setattr(picklist, name, value)
    _save_audited(picklist, actor, before)
    return picklist


def _only_one_default(option: PicklistOption) -> None:
    if option.is_default:
        PicklistOption.objects.filter(picklist_id=option.picklist_id).exclude(pk=option.pk).update(
            is_default=False
        )


@transaction.atomic
def picklist_option_create(
    *, actor: User | None, picklist: Picklist, value: str, label_zh: str, label_en: str, **fields
) -> PicklistOption:
    require_administrator(actor)
    option = PicklistOption(
        picklist=picklist, value=value, label_zh=label_zh, label_en=label_en, **fields
    )
    if "sort_order" not in fields:
        last = picklist.options.aggregate(models.Max("sort_order"))["sort_order__max"]
        option.sort_order = 0 if last is None else last + 1
    _save_audited(option, actor, None)
    _only_one_default(option)
    return option


@transaction.atomic
def picklist_option_update(
    *, option: PicklistOption, actor: User | None, **fields: Any
) -> PicklistOption:
    require_administrator(actor)
    if "value" in fields and fields["value"] != option.value:
        # Records store the option row, but imports and the API address options by value.
        raise ValidationError({"value": [_("The value of an option cannot be changed.")]})
    before = snapshot(option)
    for name, value in fields.items():
        setattr(option, name, value)
    _save_audited(option, actor, before)
    _only_one_default(option)
    return option


@transaction.atomic
def picklist_options_reorder(
    *, picklist: Picklist, option_ids: list[int], actor: User | None
) -> None:
    require_administrator(actor)
    options = {option.pk: option for option in picklist.options.all()}
    if set(option_ids) != set(options):
        raise ValidationError(_("The new order must list every option of the picklist once."))
    for order, option_id in enumerate(option_ids):
        option = options[option_id]
        if option.sort_order != order:
            picklist_option_update(option=option, actor=actor, sort_order=order)


CUSTOM_FIELD_EDITABLE = {
    "label_zh",
    "label_en",
    "required",
    "choices",
    "sort_order",
    "show_in_list",
    "is_active",
}


def _check_choices(field: CustomField) -> None:
    if field.field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE):
        if not field.choices:
            raise ValidationError({"choices": [_("A choice field needs at least one choice.")]})
        if not isinstance(field.choices, list):
            raise ValidationError({"choices": [_("Choices must be a list.")]})


@transaction.atomic
def custom_field_create(
    *,
    actor: User | None,
    model: type[models.Model] | ContentType,
    key: str,
    label_zh: str,
    label_en: str,
    field_type: str,
    **fields: Any,
) -> CustomField:
    require_administrator(actor)
    content_type = (
        model if isinstance(model, ContentType) else ContentType.objects.get_for_model(model)
    )
    field = CustomField(
        content_type=content_type,
        key=key,
        label_zh=label_zh,
        label_en=label_en,
        field_type=field_type,
        **fields,
    )
    _check_choices(field)
    _save_audited(field, actor, None)
    return field


@transaction.atomic
def custom_field_update(*, field: CustomField, actor: User | None, **fields: Any) -> CustomField:
    require_administrator(actor)
    unknown = set(fields) - CUSTOM_FIELD_EDITABLE
    if unknown:
        raise ValidationError(
            _("These cannot be changed after creation: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    before = snapshot(field)
    for name, value in fields.items():
        setattr(field, name, value)
    _check_choices(field)
    _save_audited(field, actor, before)
    return field


@transaction.atomic
def tag_create(*, actor: User | None, name: str, color: str = "secondary") -> Tag:
    tag = Tag(name=name.strip(), color=color)
    _save_audited(tag, actor, None)
    return tag


@transaction.atomic
def tag_update(*, tag: Tag, actor: User | None, **fields: Any) -> Tag:
    require_administrator(actor)
    before = snapshot(tag)
    for name, value in fields.items():
        setattr(tag, name, value)
    _save_audited(tag, actor, before)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor: User | None) -> None:
    require_administrator(actor)
    audit_record(instance=tag, action=ChangeAction.DELETE, actor=actor, before=snapshot(tag))
    tag.delete()


def tags_of(record: models.Model):
    content_type = ContentType.objects.get_for_model(record)
    return Tag.objects.filter(items__content_type=content_type, items__object_id=record.pk)


@transaction.atomic
def record_tags_set(*, record: models.Model, tags: list[Tag], actor: User | None) -> None:
    """Make the record's tags exactly `tags`; the change is recorded in its history."""
    content_type = ContentType.objects.get_for_model(record)
    current = set(tags_of(record).values_list("name", flat=True))
    wanted = {tag.name for tag in tags}
    if current == wanted:
        return
    TaggedItem.objects.filter(content_type=content_type, object_id=record.pk).exclude(
        tag__in=tags
    ).delete()
    existing = set(
        TaggedItem.objects.filter(content_type=content_type, object_id=record.pk).values_list(
            "tag_id", flat=True
        )
    )
    TaggedItem.objects.bulk_create(
        [
            TaggedItem(tag=tag, content_type=content_type, object_id=record.pk)
            for tag in tags
            if tag.pk not in existing
        ]
    )
    audit_record(
        instance=record,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"tags": sorted(current)},
        after={"tags": sorted(wanted)},
    )


@transaction.atomic
def records_tags_add(*, records: list[models.Model], tags, actor: User | None) -> None:
    """Add `tags` to each record, keeping the tags it already has."""
    adding = list(tags)
    for record in records:
        current = list(tags_of(record))
        known = {tag.pk for tag in current}
        record_tags_set(
            record=record,
            tags=current + [tag for tag in adding if tag.pk not in known],
            actor=actor,
        )
