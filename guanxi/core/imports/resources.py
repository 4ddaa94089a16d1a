"""Import/export resources: what a model offers to imports and exports, and the registry.

An app describes a model once:

    register_resource(ModelResource(
        model=Account,
        fields=["name", "kind", "industry", "phone", "owner"],
        aliases={"name": ["客户名称", "公司名称"], "phone": ["电话", "手机"]},
        duplicate_keys={"phone": normalise_phone, "name": str.strip},
    ))

The engine (services.py) matches a file's headers to these fields (English name, verbose
name in English and Chinese, aliases, custom field keys and labels), turns cell text into
field values (choices and picklist options by value or label, users by username or display
name), finds duplicates with one query per batch, and saves through the same services the
forms use (`record_create` / `record_update`), so the rules are identical.

django-import-export's `Resource` saves with `instance.save()`, bypassing those services, the
audit and the data scope, so the engine keeps its own small resource class with the same
idea (declared fields, create-or-update by key, dry run, row-level errors).
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import override

from guanxi.core.models import CustomField, PicklistOption, User
from guanxi.core.scope import can
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.services.records import record_create, record_update

CUSTOM_PREFIX = "custom."
LANGUAGES = ("en", "zh-hans")
TRUE_WORDS = {"1", "true", "yes", "y", "on", "是", "真", "对"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "否", "假", "错"}


def normalise_header(text: str) -> str:
    """Header text for matching: case, spaces, underscores, dashes, stars and colons ignored."""
    return re.sub(r"[\s_\-*:：·.]+", "", str(text)).casefold()


def normalise_phone(value: str) -> str:
    """Digits only, without the China country code: "+86 138-0013-8000" -> "13800138000"."""
    digits = re.sub(r"\D", "", str(value or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _casefold(value: Any) -> str:
    return str(value or "").strip().casefold()


@dataclass
class FieldSpec:
    """One importable / exportable field: a model field or a custom field."""

    key: str
    label: str
    names: set[str]
    model_field: models.Field | None = None
    custom_field: CustomField | None = None

    @property
    def is_custom(self) -> bool:
        return self.custom_field is not None


@dataclass
class ImportRow:
    """One data row on its way into the database."""

    line: int
    values: list[str]
    data: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    context: ImportContext | None = None


class PendingRecord:
    """A row waiting for its batch's bulk write. A later row of the batch that duplicates it
    is settled once the write has given it a record (None if the write refused it)."""

    __slots__ = ("row", "record")

    def __init__(self, row: ImportRow):
        self.row = row
        self.record: models.Model | None = None


@dataclass
class ImportContext:
    """Per-run caches, so converting and de-duplicating a row costs no query of its own."""

    user: User
    resource: ModelResource
    specs: dict[str, FieldSpec]
    can_assign: bool
    options: dict[str, dict[str, PicklistOption]] = field(default_factory=dict)
    users: dict[str, User | None] = field(default_factory=dict)
    # field key -> {casefolded value or label (English and Chinese): stored value}
    choices: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (key name, normalised value) -> existing record, refreshed per batch, grown by creates.
    known: dict[tuple[str, str], models.Model | PendingRecord] = field(default_factory=dict)
    editable_ids: set[int] = field(default_factory=set)


class ModelResource:
    """What a model offers to imports and exports. Subclass or pass hooks to adapt it."""

    def __init__(
        self,
        *,
        model: type[models.Model],
        fields: Sequence[str],
        aliases: dict[str, Sequence[str]] | None = None,
        value_aliases: dict[str, dict[str, Any]] | None = None,
        export_fields: Sequence[str] | None = None,
        duplicate_keys: dict[str, Callable[[str], str]] | None = None,
        duplicate_columns: dict[str, str] | None = None,
        duplicate_finder: Callable[[ImportRow], models.Model | None] | None = None,
        select_related: Sequence[str] = (),
        create: Callable[..., models.Model] | None = None,
        update: Callable[..., models.Model] | None = None,
        bulk_create: Callable[..., list] | None = None,
    ) -> None:
        self.model = model
        self.fields = list(fields)
        self.aliases = {key: list(values) for key, values in (aliases or {}).items()}
        # Extra words a cell may hold for a choice: {"kind": {"个人": "individual"}}.
        self.value_aliases = {
            key: {_casefold(text): value for text, value in values.items()}
            for key, values in (value_aliases or {}).items()
        }
        self.export_fields = list(export_fields or fields)
        self.duplicate_keys = dict(duplicate_keys or {})
        # Key name -> an indexed column already holding the normalised value (phone_digits).
        self.duplicate_columns = dict(duplicate_columns or {})
        self._duplicate_finder = duplicate_finder
        self.select_related = list(select_related)
        self._create = create
        self._update = update
        # (*, items=[(data, custom_data)], actor) -> [record or ValidationError] per item.
        self._bulk_create = bulk_create

    # --- naming ----------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def verbose_name_plural(self):
        return self.model._meta.verbose_name_plural

    # --- fields ----------------------------------------------------------------------------
    def field_specs(self) -> list[FieldSpec]:
        """Every field a column may fill, custom fields included, labelled in the current
        language and matchable by every name a user might type as a header."""
        specs = []
        for name in self.fields:
            model_field = self.model._meta.get_field(name)
            names = {name, *self.aliases.get(name, [])}
            for language in LANGUAGES:
                with override(language):
                    names.add(str(model_field.verbose_name))
            specs.append(
                FieldSpec(
                    key=name,
                    label=capfirst(str(model_field.verbose_name)),
                    names={normalise_header(text) for text in names if text},
                    model_field=model_field,
                )
            )
        for custom_field in custom_fields_for(self.model):
            key = f"{CUSTOM_PREFIX}{custom_field.key}"
            names = {
                custom_field.key,
                key,
                custom_field.label_zh,
                custom_field.label_en,
                *self.aliases.get(key, []),
            }
            specs.append(
                FieldSpec(
                    key=key,
                    label=custom_field.label,
                    names={normalise_header(text) for text in names if text},
                    custom_field=custom_field,
                )
            )
        return specs

    def match_headers(self, headers: Sequence[str]) -> list[str]:
        """The field key each header fills ("" when none matches); a field is used once."""
        specs = self.field_specs()
        used: set[str] = set()
        mapping = []
        for header in headers:
            wanted = normalise_header(header)
            found = ""
            if wanted:
                for spec in specs:
                    if spec.key not in used and wanted in spec.names:
                        found = spec.key
                        break
            if found:
                used.add(found)
            mapping.append(found)
        return mapping

    # --- import ----------------------------------------------------------------------------
    def context(self, *, user: User, mapping: Sequence[str]) -> ImportContext:
        specs = {spec.key: spec for spec in self.field_specs()}
        context = ImportContext(
            user=user,
            resource=self,
            specs=specs,
            can_assign=can(user, self.model, "assign"),
        )
        mapped = {key for key in mapping if key}
        for key in mapped:
            spec = specs.get(key)
            if spec is None or spec.model_field is None:
                continue
            if spec.model_field.choices:
                context.choices[key] = self._choices_by_name(spec.model_field)
                context.choices[key].update(self.value_aliases.get(key, {}))
            code = self._picklist_code(spec.model_field)
            if code is not None and code not in context.options:
                context.options[code] = self._options_by_name(code)
            if self._is_user_field(spec.model_field) and not context.users:
                context.users = self._users_by_name()
        return context

    @staticmethod
    def _picklist_code(model_field: models.Field) -> str | None:
        if not isinstance(model_field, models.ForeignKey):
            return None
        if model_field.related_model is not PicklistOption:
            return None
        limit = model_field.remote_field.limit_choices_to or {}
        return limit.get("picklist__code") if isinstance(limit, dict) else None

    @staticmethod
    def _is_user_field(model_field: models.Field) -> bool:
        return isinstance(model_field, models.ForeignKey) and model_field.related_model is User

    @staticmethod
    def _choices_by_name(model_field: models.Field) -> dict[str, Any]:
        names: dict[str, Any] = {}
        for value, label in model_field.flatchoices:
            names[_casefold(value)] = value
            for language in LANGUAGES:
                with override(language):
                    names.setdefault(_casefold(label), value)
        return names

    @staticmethod
    def _options_by_name(code: str) -> dict[str, PicklistOption]:
        options: dict[str, PicklistOption] = {}
        for option in PicklistOption.objects.filter(picklist__code=code, is_active=True):
            for name in (option.label_en, option.label_zh, option.value):
                if name:
                    options[_casefold(name)] = option
        return options

    @staticmethod
    def _users_by_name() -> dict[str, User | None]:
        users: dict[str, User | None] = {}
        by_display: dict[str, User | None] = {}
        for user in User.objects.filter(is_active=True).only(
            "id", "username", "display_name", "department_id"
        ):
            if user.display_name:
                name = _casefold(user.display_name)
                # Two colleagues with one display name: the name alone cannot say which.
                by_display[name] = None if name in by_display else user
        users.update(by_display)
        for user in User.objects.filter(is_active=True).only(
            "id", "username", "display_name", "department_id"
        ):
            users[_casefold(user.username)] = user
        return users

    def convert_value(self, spec: FieldSpec, text: str, context: ImportContext) -> Any:
        """Cell text -> the value the service expects; raises ValidationError on bad text."""
        model_field = spec.model_field
        assert model_field is not None
        if model_field.choices:
            names = context.choices.get(spec.key)
            if names is None:
                names = context.choices[spec.key] = {
                    **self._choices_by_name(model_field),
                    **self.value_aliases.get(spec.key, {}),
                }
            wanted = _casefold(text)
            if wanted in names:
                return names[wanted]
            raise ValidationError(
                _("%(value)s is not one of the choices.") % {"value": text}, code="invalid"
            )
        code = self._picklist_code(model_field)
        if code is not None:
            option = context.options.get(code, {}).get(_casefold(text))
            if option is None:
                raise ValidationError(
                    _("%(value)s is not an option of %(field)s.")
                    % {"value": text, "field": spec.label}
                )
            return option
        if self._is_user_field(model_field):
            user = context.users.get(_casefold(text))
            if user is None:
                raise ValidationError(_("There is no active user %(value)s.") % {"value": text})
            return user
        if isinstance(model_field, models.BooleanField):
            word = _casefold(text)
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValidationError(_("Enter yes or no."))
        if isinstance(model_field, models.IntegerField):
            try:
                return int(text.replace(",", ""))
            except ValueError:
                raise ValidationError(_("Enter a whole number.")) from None
        if isinstance(model_field, models.DecimalField):
            try:
                return decimal.Decimal(text.replace(",", ""))
            except decimal.InvalidOperation:
                raise ValidationError(_("Enter a number.")) from None
        if isinstance(model_field, models.DateTimeField):
            parsed = parse_datetime(text)
            if parsed is None:
                raise ValidationError(_("Enter a date and time as YYYY-MM-DD HH:MM."))
            return parsed
        if isinstance(model_field, models.DateField):
            parsed_date = parse_date(text.replace("/", "-"))
            if parsed_date is None:
                raise ValidationError(_("Enter a date as YYYY-MM-DD."))
            return parsed_date
        return text

    def convert(self, row: ImportRow, mapping: Sequence[str], context: ImportContext) -> None:
        """Fill `row.data` / `row.custom_data` from its cells; collect conversion errors.
        Empty cells are left out, so a new record gets the default and an update keeps the
        current value."""
        row.context = context
        for key, text in zip(mapping, row.values, strict=False):
            if not key or text == "":
                continue
            spec = context.specs.get(key)
            if spec is None:
                continue
            if spec.custom_field is not None:
                row.custom_data[spec.custom_field.key] = text
                continue
            try:
                row.data[key] = self.convert_value(spec, text, context)
            except ValidationError as error:
                row.errors.append((key, " ".join(error.messages)))
        owner = row.data.get("owner")
        if owner is not None and owner.pk != context.user.pk and not context.can_assign:
            row.errors.append(("owner", _("Your role does not allow giving records to others.")))
        if owner is not None:
            row.data["department_id"] = owner.department_id

    # --- duplicates --------------------------------------------------------------------------
    def duplicate_values(self, row: ImportRow) -> list[tuple[str, str]]:
        found = []
        for name, normalise in self.duplicate_keys.items():
            value = row.data.get(name)
            if isinstance(value, str) and value.strip():
                normalised = normalise(value)
                if normalised:
                    found.append((name, normalised))
        return found

    def prefetch_duplicates(self, rows: Iterable[ImportRow], context: ImportContext) -> None:
        """Load, with one query, the records of the user's scope that rows of this batch
        match on a duplicate key, and which of them the user may change."""
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for name, value in self.duplicate_values(row):
                values = wanted.setdefault(name, set())
                values.add(value)
                if name not in self.duplicate_columns:
                    values.add(row.data[name].strip())
        if not wanted:
            return
        condition = Q()
        for name, values in wanted.items():
            column = self.duplicate_columns.get(name, name)
            condition |= Q(**{f"{column}__in_array": sorted(values)})
        queryset = self.model.objects.visible_to(context.user).filter(condition)
        fresh = list(queryset.order_by("pk"))
        for record in fresh:
            for name, value in self._record_keys(record):
                context.known.setdefault((name, value), record)
        ids = [record.pk for record in fresh]
        if ids:
            context.editable_ids.update(
                self.model.objects.editable_by(context.user)
                .filter(pk__in_array=ids)
                .values_list("pk", flat=True)
            )

    def duplicate_finder(self, row: ImportRow) -> models.Model | None:
        """The existing record this row duplicates, or None. A resource may plug in a
        smarter finder (fuzzy names, pinyin) by passing `duplicate_finder=`."""
        if self._duplicate_finder is not None:
            return self._duplicate_finder(row)
        assert row.context is not None
        for key in self.duplicate_values(row):
            record = row.context.known.get(key)
            if record is not None:
                return record
        return None

    def _record_keys(self, record: models.Model) -> list[tuple[str, str]]:
        keys = []
        for name, normalise in self.duplicate_keys.items():
            column = self.duplicate_columns.get(name)
            if column is not None:
                value = str(getattr(record, column) or "")
            else:
                value = normalise(str(getattr(record, name) or ""))
            if value:
                keys.append((name, value))
        return keys

    def remember(self, record: models.Model, context: ImportContext) -> None:
        """A record created by this run is a duplicate candidate for the rows after it."""
        for key in self._record_keys(record):
            context.known.setdefault(key, record)
        context.editable_ids.add(record.pk)

    def remember_pending(self, pending: PendingRecord, context: ImportContext) -> None:
        """A row about to be created in bulk is a duplicate candidate for the rows after it."""
        for key in self.duplicate_values(pending.row):
            context.known.setdefault(key, pending)

    def settle_pending(self, pending: PendingRecord, context: ImportContext) -> None:
        """The bulk write is done: the row's keys now lead to its record, or to nothing."""
        for key in self.duplicate_values(pending.row):
            if context.known.get(key) is pending:
                del context.known[key]
        if pending.record is not None:
            self.remember(pending.record, context)

    # --- writes ------------------------------------------------------------------------------
    def create(self, *, data: dict, custom_data: dict, actor: User) -> models.Model:
        if "owner" not in data:
            # What record_create would default to, without its query per row.
            data = {**data, "owner": actor, "department_id": actor.department_id}
        if self._create is not None:
            return self._create(data=data, custom_data=custom_data, actor=actor)
        return record_create(model=self.model, data=data, custom_data=custom_data, actor=actor)

    @property
    def supports_bulk_create(self) -> bool:
        return self._bulk_create is not None

    def bulk_create(self, *, items: list[tuple[dict, dict]], actor: User) -> list:
        items = [
            (
                data
                if "owner" in data
                else {**data, "owner": actor, "department_id": actor.department_id},
                custom_data,
            )
            for data, custom_data in items
        ]
        return self._bulk_create(items=items, actor=actor)

    def update(
        self, *, instance: models.Model, data: dict, custom_data: dict, actor: User
    ) -> models.Model:
        if self._update is not None:
            return self._update(instance=instance, data=data, custom_data=custom_data, actor=actor)
        return record_update(
            instance=instance, data=data, custom_data=custom_data or None, actor=actor
        )

    # --- export ------------------------------------------------------------------------------
    def export_specs(self) -> list[FieldSpec]:
        specs = {spec.key: spec for spec in self.field_specs()}
        chosen = [specs[name] for name in self.export_fields if name in specs]
        chosen += [spec for spec in specs.values() if spec.is_custom]
        return chosen

    def export_related(self) -> list[str]:
        related = list(self.select_related)
        for name in self.export_fields:
            model_field = self.model._meta.get_field(name)
            if isinstance(model_field, models.ForeignKey) and name not in related:
                related.append(name)
        return related

    def export_value(self, record: models.Model, spec: FieldSpec) -> Any:
        """A cell value the import reads back: choice labels, option labels, usernames."""
        if spec.custom_field is not None:
            value = (record.custom_data or {}).get(spec.custom_field.key)
            if isinstance(value, list):
                return ",".join(str(item) for item in value)
            if isinstance(value, bool):
                return _("Yes") if value else _("No")
            return "" if value is None else value
        model_field = spec.model_field
        assert model_field is not None
        if model_field.choices:
            return getattr(record, f"get_{model_field.name}_display")()
        value = getattr(record, model_field.name)
        if value is None:
            return ""
        if isinstance(value, User):
            return value.username
        if isinstance(value, models.Model):
            return str(value)
        if isinstance(value, datetime.datetime | datetime.date | decimal.Decimal):
            return value
        return value


_resources: dict[str, ModelResource] = {}


def register_resource(resource: ModelResource) -> None:
    """Offer a model to imports and exports. Registering a model again replaces it."""
    _resources[resource.label] = resource


def get_resource(model_label: str) -> ModelResource | None:
    return _resources.get(str(model_label).lower())


def resources() -> list[ModelResource]:
    return list(_resources.values())
