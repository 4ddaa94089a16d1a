"""Forms of the administrator screens. They only collect and check input; services write."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.auth import BootstrapFormMixin, time_zone_choices
from guanxi.core.models import (
    Action,
    CustomFieldType,
    DataScope,
    Department,
    Role,
    User,
)

TAG_COLOURS = [
    ("secondary", _("Grey")),
    ("primary", _("Blue")),
    ("success", _("Green")),
    ("danger", _("Red")),
    ("warning", _("Yellow")),
    ("info", _("Cyan")),
    ("dark", _("Black")),
]


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'— ' * obj.depth}{obj.name}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class UserForm(BootstrapFormMixin, forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    department = DepartmentChoiceField(
        label=_("Department"), queryset=Department.objects.order_by("path"), required=False
    )
    manager = UserChoiceField(
        label=_("Manager"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text=_("Leave empty to report to the department manager."),
    )
    roles = RoleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    service_fields = (
        "username",
        "display_name",
        "email",
        "phone",
        "department",
        "manager",
        "language",
        "time_zone",
        "is_active",
    )

    def __init__(self, *args, instance: User | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            initial = {name: getattr(instance, name) for name in self.service_fields}
            initial["roles"] = list(instance.roles.all())
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
        if not self.is_bound and instance is None:
            self.fields["time_zone"].initial = "Asia/Shanghai"
        if instance is not None:
            self.fields["manager"].queryset = self.fields["manager"].queryset.exclude(
                pk=instance.pk
            )

    def clean_username(self):
        username = self.cleaned_data["username"]
        taken = User.objects.filter(username__iexact=username)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("This username is already taken."))
        return username

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.service_fields}


class PasswordPairMixin:
    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            probe = getattr(self, "user_for_password", None) or User(
                username=cleaned.get("username") or "",
                email=cleaned.get("email") or "",
                display_name=cleaned.get("display_name") or "",
            )
            try:
                validate_password(first, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class UserCreateForm(PasswordPairMixin, UserForm):
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PasswordResetForm(PasswordPairMixin, BootstrapFormMixin, forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user_for_password = user
        super().__init__(*args, **kwargs)


class DepartmentForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = DepartmentChoiceField(
        label=_("Parent department"),
        queryset=Department.objects.order_by("path"),
        required=False,
        help_text=_("Leave empty for a top-level department."),
    )
    manager = UserChoiceField(
        label=_("Manager"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)

    def __init__(self, *args, instance: Department | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "parent": instance.parent,
                "manager": instance.manager,
                "sort_order": instance.sort_order,
            }
        super().__init__(*args, **kwargs)


ROLE_ACTIONS = list(Action.choices)


class RoleForm(BootstrapFormMixin, forms.Form):
    """A role with its permissions as a matrix: one row per model, one column per action."""

    code = forms.SlugField(
        label=_("Code"), max_length=50, help_text=_("Letters, digits, - and _; cannot change.")
    )
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    data_scope = forms.ChoiceField(label=_("Data scope"), choices=DataScope.choices)
    is_admin = forms.BooleanField(
        label=_("Administrator"),
        required=False,
        help_text=_("May manage users, roles, configuration and the recycle bin."),
    )
    see_contact_details = forms.BooleanField(
        label=_("See phone numbers and e-mails"),
        required=False,
        initial=True,
        help_text=_("When off, they are masked; revealing one is logged."),
    )

    def __init__(self, *args, instance: Role | None = None, model_rows=(), **kwargs):
        """`model_rows` is a list of (model label, display name); "*" is added first."""
        self.instance = instance
        self.model_rows = [("*", _("All models"))] + [row for row in model_rows if row[0] != "*"]
        permissions = dict(instance.permissions) if instance is not None else {}
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": instance.code,
                "name_zh": instance.name_zh,
                "name_en": instance.name_en,
                "data_scope": instance.data_scope,
                "is_admin": instance.is_admin,
                "see_contact_details": instance.see_contact_details,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["code"].disabled = True
        self.matrix = []
        for label, name in self.model_rows:
            allowed = set(permissions.get(label) or [])
            cells = []
            for action, action_name in ROLE_ACTIONS:
                key = self.cell_name(label, action)
                self.fields[key] = forms.BooleanField(
                    label=f"{name}: {action_name}",
                    required=False,
                    initial=action in allowed,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
                cells.append(key)
            self.matrix.append({"label": label, "name": name, "cells": cells})

    @staticmethod
    def cell_name(label: str, action: str) -> str:
        return f"perm__{label}__{action}"

    def matrix_rows(self):
        return [
            {
                "label": row["label"],
                "name": row["name"],
                "cells": [self[key] for key in row["cells"]],
            }
            for row in self.matrix
        ]

    def permissions(self) -> dict[str, list[str]]:
        """The permissions JSON; labels outside the matrix keep what they had."""
        result = dict(self.instance.permissions) if self.instance is not None else {}
        for row in self.matrix:
            actions = [
                action
                for action, _name in ROLE_ACTIONS
                if self.cleaned_data.get(self.cell_name(row["label"], action))
            ]
            if actions:
                result[row["label"]] = actions
            else:
                result.pop(row["label"], None)
        return result

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.instance is None and Role.objects.filter(code=code).exists():
            raise ValidationError(_("A role with this code exists already."))
        return code


class PicklistForm(BootstrapFormMixin, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=50)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": instance.code,
                "name_zh": instance.name_zh,
                "name_en": instance.name_en,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["code"].disabled = True


class PicklistOptionForm(BootstrapFormMixin, forms.Form):
    value = forms.SlugField(
        label=_("Value"),
        max_length=50,
        help_text=_("Used by imports and the API; cannot change later."),
    )
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=100)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    is_default = forms.BooleanField(label=_("Default"), required=False)
    icon = forms.RegexField(
        label=_("Icon"),
        regex=r"^(bi-[a-z0-9-]+)?$",
        max_length=40,
        required=False,
        help_text=_("A Bootstrap icon name such as bi-telephone (optional)."),
        error_messages={"invalid": _("Use a Bootstrap icon name such as bi-telephone.")},
    )
    color = forms.RegexField(
        label=_("Colour"),
        regex=r"^(#[0-9a-fA-F]{6})?$",
        max_length=20,
        required=False,
        help_text=_("A colour such as #0d6efd (optional)."),
        error_messages={"invalid": _("Use a colour such as #0d6efd.")},
    )

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "value": instance.value,
                "label_zh": instance.label_zh,
                "label_en": instance.label_en,
                "is_active": instance.is_active,
                "is_default": instance.is_default,
                "icon": instance.icon,
                "color": instance.color,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["value"].disabled = True

    def service_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("label_zh", "label_en", "is_active", "is_default", "icon", "color")
        }


key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$",
    _("Start with a lower-case letter; then lower-case letters, digits and underscores."),
)


def parse_choices(text: str) -> list[dict[str, str]]:
    """One choice a line, "value|label" (the label defaults to the value)."""
    choices, seen = [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        value, _sep, label = line.partition("|")
        value, label = value.strip(), label.strip() or value.strip()
        if not value:
            raise ValidationError(_("Line %(line)s has no value before the |.") % {"line": number})
        if value in seen:
            raise ValidationError(_("The value %(value)s is listed twice.") % {"value": value})
        seen.add(value)
        choices.append({"value": value, "label": label})
    return choices


def format_choices(choices) -> str:
    lines = []
    for choice in choices or []:
        if isinstance(choice, dict):
            value, label = str(choice.get("value", "")), str(choice.get("label", ""))
            lines.append(value if not label or label == value else f"{value}|{label}")
        else:
            lines.append(str(choice))
    return "\n".join(lines)


class CustomFieldForm(BootstrapFormMixin, forms.Form):
    model = forms.ChoiceField(label=_("Model"), choices=())
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        validators=[key_validator],
        help_text=_("Letters, digits and underscores; used in the API and in imports."),
    )
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=100)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_('For choice fields: one choice a line, as "value|label".'),
    )
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)
    show_in_list = forms.BooleanField(label=_("Show in lists"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    fixed_after_creation = ("model", "key", "field_type")
    editable = ("label_zh", "label_en", "required", "choices", "sort_order")
    editable_flags = ("show_in_list", "is_active")

    def __init__(self, *args, instance=None, model_choices=(), **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "model": f"{instance.content_type.app_label}.{instance.content_type.model}",
                "key": instance.key,
                "label_zh": instance.label_zh,
                "label_en": instance.label_en,
                "field_type": instance.field_type,
                "required": instance.required,
                "choices": format_choices(instance.choices),
                "sort_order": instance.sort_order,
                "show_in_list": instance.show_in_list,
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = list(model_choices)
        if instance is not None:
            for name in self.fixed_after_creation:
                self.fields[name].disabled = True

    def clean_choices(self):
        return parse_choices(self.cleaned_data.get("choices") or "")

    def service_data(self) -> dict:
        names = ("label_zh", "label_en", "required", "choices", "sort_order", "show_in_list")
        data = {name: self.cleaned_data[name] for name in names}
        data["is_active"] = self.cleaned_data["is_active"]
        return data


class TagForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    color = forms.ChoiceField(label=_("Colour"), choices=TAG_COLOURS, initial="secondary")

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, "color": instance.color}
        super().__init__(*args, **kwargs)
