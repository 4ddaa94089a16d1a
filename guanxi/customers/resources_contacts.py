"""Contact and account-contact imports and exports.

A contact row may hold several phone numbers (or e-mail addresses) in one cell, separated by
commas, semicolons, slashes or spaces, and may name an account it works at (by name or id,
among the accounts the importing user can see) with its role there. A contact row duplicates
a visible contact sharing any of its phone numbers (as digits) or e-mail addresses.

A link row puts an existing contact (by id, or by name plus phone) at an existing account.
A link that already exists is the row's duplicate (skipped or updated by the policy).

Every lookup is made once per batch (prefetch_duplicates), so a batch costs the service
writes plus a constant. Writes go through the customers services.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from guanxi.core.imports.resources import (
    LANGUAGES,
    FieldSpec,
    ImportContext,
    ImportRow,
    ModelResource,
    _casefold,
    normalise_header,
    register_resource,
)
from guanxi.core.models import PicklistOption, User
from guanxi.core.phones import email_key, phone_digits
from guanxi.customers.models import Account, AccountContact, Contact, ContactEmail, ContactPhone
from guanxi.customers.services import (
    account_contact_link,
    account_contact_update,
    contact_create,
    contact_update,
)

ROLE_PICKLIST = "contact_role"
_LIST_SEPARATORS = re.compile(r"[,;/，；、|\n]+")
_SPACES = re.compile(r"\s+")


# --- Cell helpers ------------------------------------------------------------------------------
def split_phones(text: str) -> list[str]:
    """One cell, several numbers: "138 1234 5678, 010-6512 3456/13900001111".

    Commas, semicolons and slashes always separate. Spaces separate only when every piece
    is a whole number on its own (seven digits or more), so "010 6512 3456" stays one number.
    """
    numbers = []
    for part in _LIST_SEPARATORS.split(str(text or "")):
        part = part.strip()
        if not part:
            continue
        pieces = _SPACES.split(part)
        if len(pieces) > 1 and all(len(re.sub(r"\D", "", piece)) >= 7 for piece in pieces):
            numbers.extend(pieces)
        else:
            numbers.append(part)
    return numbers


def split_emails(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;/，；、|]+", str(text or "")) if part]


def _rename_point_errors(error: ValidationError) -> ValidationError:
    """The services name a bad phone "numbers"; the import column is "phones"."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {}
    for name, messages in error.message_dict.items():
        renamed["phones" if name == "numbers" else name] = messages
    return ValidationError(renamed)


def _virtual_spec(key: str, label, names: Iterable[str]) -> FieldSpec:
    texts = {key, *names}
    for language in LANGUAGES:
        with override(language):
            texts.add(str(label))
    return FieldSpec(
        key=key,
        label=capfirst(str(label)),
        names={normalise_header(text) for text in texts if text},
    )


class _VirtualFieldsMixin:
    """Columns that are no model field of their own (phones, the account to link to)."""

    virtual_fields: dict[str, tuple[Any, Sequence[str]]] = {}

    def field_specs(self) -> list[FieldSpec]:
        specs = super().field_specs()
        custom = [spec for spec in specs if spec.is_custom]
        plain = [spec for spec in specs if not spec.is_custom]
        virtual = [
            _virtual_spec(key, label, [*names, *self.aliases.get(key, [])])
            for key, (label, names) in self.virtual_fields.items()
        ]
        return [*plain, *virtual, *custom]

    def export_related(self) -> list[str]:
        related = list(self.select_related)
        for name in self.export_fields:
            if name in self.virtual_fields:
                continue
            model_field = self.model._meta.get_field(name)
            if isinstance(model_field, models.ForeignKey) and name not in related:
                related.append(name)
        return related


def _role_options(context: ImportContext) -> dict[str, PicklistOption]:
    if ROLE_PICKLIST not in context.options:
        context.options[ROLE_PICKLIST] = ModelResource._options_by_name(ROLE_PICKLIST)
    return context.options[ROLE_PICKLIST]


def _convert_role(text: str, context: ImportContext, label: str) -> PicklistOption:
    option = _role_options(context).get(_casefold(text))
    if option is None:
        raise ValidationError(
            _("%(value)s is not an option of %(field)s.") % {"value": text, "field": label}
        )
    return option


def _account_lookup(texts: Iterable[str], user: User) -> dict[str, Account | None | str]:
    """Account cell text -> the visible account it names, or the reason it names none.
    One query for the whole batch."""
    texts = {str(text).strip() for text in texts if str(text).strip()}
    if not texts:
        return {}
    ids = {int(text) for text in texts if text.isdigit()}
    found = list(
        Account.objects.visible_to(user)
        .filter(Q(name__in=texts) | Q(pk__in=ids))
        .select_related("owner", "department")
        .order_by("pk")
    )
    by_id = {account.pk: account for account in found}
    by_name: dict[str, list[Account]] = defaultdict(list)
    for account in found:
        by_name[account.name].append(account)
    answer: dict[str, Account | None | str] = {}
    for text in texts:
        if text.isdigit() and int(text) in by_id:
            answer[text] = by_id[int(text)]
        elif len(by_name.get(text, [])) == 1:
            answer[text] = by_name[text][0]
        elif by_name.get(text):
            answer[text] = _("Several accounts are called %(name)s; give the account id.") % {
                "name": text
            }
        else:
            answer[text] = _("There is no account %(name)s that you can see.") % {"name": text}
    return answer


def _resolve_account(value: Any, actor: User) -> Account | None:
    """The account of a row (resolved per batch already, or looked up now)."""
    if value is None or isinstance(value, Account):
        return value
    found = _account_lookup([value], actor).get(str(value).strip())
    if isinstance(found, Account):
        return found
    raise ValidationError({"account": [str(found)]})


# --- Contacts ----------------------------------------------------------------------------------
class ContactResource(_VirtualFieldsMixin, ModelResource):
    virtual_fields = {
        "phones": (gettext_lazy("phones"), ["phone"]),
        "emails": (gettext_lazy("e-mails"), ["email"]),
        "account": (gettext_lazy("account"), []),
        "role": (gettext_lazy("role"), []),
        "account_job_title": (gettext_lazy("job title at account"), []),
    }

    # --- converting ------------------------------------------------------------------------
    def convert_value(self, spec: FieldSpec, text: str, context: ImportContext) -> Any:
        if spec.key == "phones":
            return split_phones(text)
        if spec.key == "emails":
            return split_emails(text)
        if spec.key in ("account", "account_job_title"):
            return text.strip()
        if spec.key == "role":
            return _convert_role(text, context, spec.label)
        return super().convert_value(spec, text, context)

    def convert(self, row: ImportRow, mapping: Sequence[str], context: ImportContext) -> None:
        super().convert(row, mapping, context)
        if ("role" in row.data or "account_job_title" in row.data) and not row.data.get("account"):
            row.errors.append(("account", _("A role or job title needs the account to link to.")))

    # --- duplicates --------------------------------------------------------------------------
    def duplicate_values(self, row: ImportRow) -> list[tuple[str, str]]:
        found = []
        for number in row.data.get("phones") or []:
            digits = phone_digits(number)
            if digits:
                found.append(("phone", digits))
        for address in row.data.get("emails") or []:
            key = email_key(address)
            if key:
                found.append(("email", key))
        return found

    def _record_keys(self, record: models.Model) -> list[tuple[str, str]]:
        keys = [("phone", digits) for digits in getattr(record, "_import_digits", [])]
        keys += [("email", key) for key in getattr(record, "_import_emails", [])]
        return keys

    def prefetch_duplicates(self, rows: Iterable[ImportRow], context: ImportContext) -> None:
        """A constant number of queries: the accounts the rows name, the visible contacts
        sharing a phone or an e-mail with a row (with their phones and e-mails), and those the
        user may change."""
        rows = list(rows)
        user = context.user
        accounts = _account_lookup((row.data.get("account") or "" for row in rows), user)
        for row in rows:
            text = row.data.get("account")
            if not text:
                continue
            found = accounts.get(str(text).strip())
            if isinstance(found, Account):
                row.data["account"] = found
            else:
                row.errors.append(("account", str(found)))
        digits = {
            value for row in rows for name, value in self.duplicate_values(row) if name == "phone"
        }
        addresses = set()
        for row in rows:
            for address in row.data.get("emails") or []:
                addresses.update({address.strip(), address.strip().lower()})
        if not digits and not addresses:
            return
        visible = Contact.objects.visible_to(user)
        condition = Q()
        if digits:
            condition |= Q(
                pk__in=ContactPhone.objects.filter(digits__in=sorted(digits)).values("contact_id")
            )
        if addresses:
            condition |= Q(
                pk__in=ContactEmail.objects.filter(address__in=sorted(addresses)).values(
                    "contact_id"
                )
            )
        contacts = list(
            visible.filter(condition).prefetch_related("phones", "emails").order_by("pk")
        )
        for contact in contacts:
            contact._import_digits = [phone.digits for phone in contact.phones.all()]
            contact._import_emails = [email_key(email.address) for email in contact.emails.all()]
            for key in self._record_keys(contact):
                context.known.setdefault(key, contact)
        ids = [contact.pk for contact in contacts]
        if not ids:
            return
        context.editable_ids.update(
            Contact.objects.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True)
        )

    def remember(self, record: models.Model, context: ImportContext) -> None:
        record._import_digits = list(getattr(record, "_import_digits", []))
        record._import_emails = list(getattr(record, "_import_emails", []))
        super().remember(record, context)

    # --- writes ------------------------------------------------------------------------------
    @staticmethod
    def _split(data: dict) -> tuple[dict, dict]:
        data = dict(data)
        extra = {key: data.pop(key, None) for key in ("phones", "emails", "account", "role")}
        extra["job_title"] = data.pop("account_job_title", "") or ""
        return data, extra

    def create(self, *, data: dict, custom_data: dict, actor: User) -> Contact:
        data, extra = self._split(data)
        if "owner" not in data:
            data = {**data, "owner": actor, "department_id": actor.department_id}
        account = _resolve_account(extra["account"], actor)
        try:
            contact = contact_create(
                actor=actor,
                data=data,
                phones=[{"number": number} for number in extra["phones"] or []],
                emails=[{"address": address} for address in extra["emails"] or []],
                custom_data=custom_data,
                account=account,
                role=extra["role"],
                job_title=extra["job_title"],
            )
        except ValidationError as error:
            raise _rename_point_errors(error) from None
        contact._import_digits = [phone_digits(number) for number in extra["phones"] or []]
        contact._import_emails = [email_key(address) for address in extra["emails"] or []]
        return contact

    def update(
        self, *, instance: models.Model, data: dict, custom_data: dict, actor: User
    ) -> Contact:
        """Fill the matching contact: given phones and e-mails are added to its own, and it is
        linked to the given account unless it already is."""
        data, extra = self._split(data)
        phones = emails = None
        if extra["phones"]:
            current = [
                {"number": phone.number, "kind": phone.kind, "is_primary": phone.is_primary}
                for phone in instance.phones.all()
            ]
            phones = current + [{"number": number} for number in extra["phones"]]
        if extra["emails"]:
            current = [
                {"address": email.address, "kind": email.kind, "is_primary": email.is_primary}
                for email in instance.emails.all()
            ]
            emails = current + [{"address": address} for address in extra["emails"]]
        account = _resolve_account(extra["account"], actor)
        try:
            contact = contact_update(
                contact=instance,
                actor=actor,
                data=data,
                phones=phones,
                emails=emails,
                custom_data=custom_data or None,
            )
            linked = account is not None and (
                AccountContact.objects.filter(account=account, contact=contact).exists()
            )
            if account is not None and not linked:
                account_contact_link(
                    account=account,
                    contact=contact,
                    actor=actor,
                    role=extra["role"],
                    job_title=extra["job_title"] or contact.title,
                )
        except ValidationError as error:
            raise _rename_point_errors(error) from None
        return contact

    # --- export ------------------------------------------------------------------------------
    def export_prefetch(self) -> list:
        return [
            "phones",
            "emails",
            Prefetch(
                "links",
                queryset=AccountContact.objects.select_related("account", "role").order_by(
                    "-is_primary", "pk"
                ),
            ),
        ]

    def export_value(self, record: models.Model, spec: FieldSpec) -> Any:
        if spec.key == "phones":
            return ", ".join(phone.number for phone in record.phones.all())
        if spec.key == "emails":
            return ", ".join(email.address for email in record.emails.all())
        if spec.key in ("account", "role", "account_job_title"):
            links = list(record.links.all())
            if not links:
                return ""
            link = links[0]
            if spec.key == "account":
                return link.account.name
            if spec.key == "role":
                return link.role.label if link.role else ""
            return link.job_title
        return super().export_value(record, spec)


contact_resource = ContactResource(
    model=Contact,
    fields=["name", "title", "gender", "wechat", "address", "notes", "owner"],
    aliases={
        "name": ["姓名", "联系人", "联系人姓名", "名字", "Contact", "Full name"],
        "title": ["职位", "职务", "头衔", "Title", "Position"],
        "gender": ["性别", "Sex"],
        "wechat": ["微信", "微信号", "Weixin"],
        "address": ["地址", "联系地址", "详细地址"],
        "notes": ["备注", "说明", "Note", "Remarks"],
        "owner": ["负责人", "所有人", "Owner"],
        "phones": [
            "手机/电话",
            "手机",
            "电话",
            "手机号",
            "联系电话",
            "电话号码",
            "Mobile",
            "Telephone",
            "Tel",
        ],
        "emails": ["邮箱", "电子邮件", "电子邮箱", "Email", "Mail"],
        "account": ["客户名称", "客户", "公司", "公司名称", "所属客户", "Company"],
        "role": ["角色", "联系人角色", "Contact role"],
        "account_job_title": ["在客户的职位", "客户职位", "Job title at account"],
    },
    value_aliases={
        "gender": {
            "男": Contact.Gender.MALE,
            "先生": Contact.Gender.MALE,
            "M": Contact.Gender.MALE,
            "女": Contact.Gender.FEMALE,
            "女士": Contact.Gender.FEMALE,
            "F": Contact.Gender.FEMALE,
        }
    },
    export_fields=[
        "name",
        "title",
        "gender",
        "phones",
        "emails",
        "wechat",
        "address",
        "notes",
        "owner",
        "account",
        "role",
        "account_job_title",
    ],
    select_related=["owner"],
)


# --- Account-contact links ---------------------------------------------------------------------
class AccountContactResource(_VirtualFieldsMixin, ModelResource):
    virtual_fields = {
        "contact_phone": (gettext_lazy("contact phone"), []),
    }

    def convert_value(self, spec: FieldSpec, text: str, context: ImportContext) -> Any:
        if spec.key in ("account", "contact", "contact_phone"):
            return text.strip()
        if spec.key == "role":
            return _convert_role(text, context, spec.label)
        return super().convert_value(spec, text, context)

    def convert(self, row: ImportRow, mapping: Sequence[str], context: ImportContext) -> None:
        super().convert(row, mapping, context)
        for key in ("account", "contact"):
            if not row.data.get(key):
                label = context.specs[key].label
                row.errors.append((key, _("%(field)s is required.") % {"field": label}))

    # --- lookups -----------------------------------------------------------------------------
    @staticmethod
    def _contact_lookup(rows: list[ImportRow], user: User) -> None:
        """Turn each row's contact text (id, or name with the phone column) into a visible
        contact, or a row error. Two queries for the batch."""
        wanted = [row for row in rows if isinstance(row.data.get("contact"), str)]
        if not wanted:
            return
        texts = {row.data["contact"] for row in wanted}
        ids = {int(text) for text in texts if text.isdigit()}
        found = list(
            Contact.objects.visible_to(user)
            .filter(Q(name__in=texts) | Q(pk__in=ids))
            .prefetch_related(
                Prefetch("phones", queryset=ContactPhone.objects.only("contact_id", "digits"))
            )
            .order_by("pk")
        )
        by_id = {contact.pk: contact for contact in found}
        by_name: dict[str, list[Contact]] = defaultdict(list)
        for contact in found:
            by_name[contact.name].append(contact)
        for row in wanted:
            text = row.data["contact"]
            digits = phone_digits(row.data.get("contact_phone") or "")
            candidates = by_name.get(text, [])
            if digits:
                candidates = [
                    contact
                    for contact in candidates
                    if digits in {phone.digits for phone in contact.phones.all()}
                ]
            if text.isdigit() and int(text) in by_id:
                row.data["contact"] = by_id[int(text)]
            elif len(candidates) == 1:
                row.data["contact"] = candidates[0]
            elif candidates:
                row.errors.append(
                    (
                        "contact",
                        _("Several contacts are called %(name)s; add the phone or give the id.")
                        % {"name": text},
                    )
                )
            elif digits:
                row.errors.append(
                    (
                        "contact",
                        _("There is no contact %(name)s with phone %(phone)s that you can see.")
                        % {"name": text, "phone": row.data.get("contact_phone")},
                    )
                )
            else:
                row.errors.append(
                    (
                        "contact",
                        _("There is no contact %(name)s that you can see.") % {"name": text},
                    )
                )

    def _resolve(self, rows: list[ImportRow], context: ImportContext) -> None:
        accounts = _account_lookup(
            (row.data.get("account") for row in rows if isinstance(row.data.get("account"), str)),
            context.user,
        )
        for row in rows:
            text = row.data.get("account")
            if isinstance(text, str):
                found = accounts.get(text.strip())
                if isinstance(found, Account):
                    row.data["account"] = found
                else:
                    row.errors.append(("account", str(found)))
        self._contact_lookup(rows, context.user)

    def duplicate_values(self, row: ImportRow) -> list[tuple[str, str]]:
        account, contact = row.data.get("account"), row.data.get("contact")
        if isinstance(account, Account) and isinstance(contact, Contact):
            return [("link", f"{account.pk}:{contact.pk}")]
        return []

    def _record_keys(self, record: models.Model) -> list[tuple[str, str]]:
        return [("link", f"{record.account_id}:{record.contact_id}")]

    def prefetch_duplicates(self, rows: Iterable[ImportRow], context: ImportContext) -> None:
        rows = list(rows)
        self._resolve(rows, context)
        pairs = [
            (row.data["account"].pk, row.data["contact"].pk)
            for row in rows
            if not row.errors and self.duplicate_values(row)
        ]
        if not pairs:
            return
        links = list(
            AccountContact.objects.visible_to(context.user)
            .filter(
                account_id__in={account for account, _contact in pairs},
                contact_id__in={contact for _account, contact in pairs},
            )
            .select_related("account", "contact")
        )
        for link in links:
            context.known.setdefault(self._record_keys(link)[0], link)
        if links:
            context.editable_ids.update(
                AccountContact.objects.editable_by(context.user)
                .filter(pk__in=[link.pk for link in links])
                .values_list("pk", flat=True)
            )

    # --- writes ------------------------------------------------------------------------------
    def create(self, *, data: dict, custom_data: dict, actor: User) -> AccountContact:
        account = _resolve_account(data.get("account"), actor)
        contact = data.get("contact")
        if not isinstance(contact, Contact):
            row = ImportRow(line=0, values=[], data=dict(data))
            self._contact_lookup([row], actor)
            if row.errors:
                raise ValidationError({name: [reason] for name, reason in row.errors})
            contact = row.data["contact"]
        return account_contact_link(
            account=account,
            contact=contact,
            actor=actor,
            role=data.get("role"),
            job_title=data.get("job_title", ""),
            is_primary=bool(data.get("is_primary", False)),
        )

    def update(
        self, *, instance: models.Model, data: dict, custom_data: dict, actor: User
    ) -> AccountContact:
        changes = {key: data[key] for key in ("role", "job_title", "is_primary") if key in data}
        if not changes:
            return instance
        return account_contact_update(link=instance, actor=actor, data=changes)

    def export_value(self, record: models.Model, spec: FieldSpec) -> Any:
        if spec.key == "account":
            return record.account.name
        if spec.key == "contact":
            return record.contact.name
        if spec.key == "contact_phone":
            phones = list(record.contact.phones.all())
            return phones[0].number if phones else ""
        return super().export_value(record, spec)

    def export_prefetch(self) -> list:
        return ["contact__phones"]


account_contact_resource = AccountContactResource(
    model=AccountContact,
    fields=["account", "contact", "role", "job_title", "is_primary"],
    aliases={
        "account": ["客户名称", "客户", "公司", "公司名称", "Company"],
        "contact": ["联系人", "联系人姓名", "姓名", "Contact name"],
        "contact_phone": ["联系人电话", "手机", "电话", "手机号", "Phone", "Mobile"],
        "role": ["角色", "联系人角色", "Contact role"],
        "job_title": ["职位", "职务", "Title"],
        "is_primary": ["主要联系人", "首要联系人", "Primary"],
    },
    export_fields=["account", "contact", "contact_phone", "role", "job_title", "is_primary"],
    select_related=["account", "contact", "role"],
)

register_resource(contact_resource)
register_resource(account_contact_resource)
