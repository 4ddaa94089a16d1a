"""What the business configures as data: picklists, custom fields; and notifications."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _localised(zh: str, en: str) -> str:
    return zh if (get_language() or "zh").startswith("zh") else (en or zh)


class Picklist(models.Model):
    """A named list of options such as industry, source or loss reason."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    class Meta:
        verbose_name = _("picklist")
        verbose_name_plural = _("picklists")
        ordering = ["code"]

    def __str__(self) -> str:
        return _localised(self.name_zh, self.name_en)


class PicklistOption(models.Model):
    picklist = models.ForeignKey(Picklist, on_delete=models.CASCADE, related_name="options")
    value = models.SlugField(_("value"), max_length=50)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default"), default=False)
    # Optional presentation: a Bootstrap icon name (e.g. "bi-telephone") and a CSS colour.
    icon = models.CharField(_("icon"), max_length=40, blank=True)
    color = models.CharField(_("colour"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("picklist option")
        verbose_name_plural = _("picklist options")
        ordering = ["picklist", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["picklist", "value"], name="picklist_value_once")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self.label_zh, self.label_en)


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    USER = "user", _("User")
    BOOLEAN = "boolean", _("Yes / no")


class CustomField(models.Model):
    """A field an administrator adds to a model; values live in the record's custom_data."""

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("model"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.SlugField(
        _("key"),
        max_length=50,
        help_text=_("Letters, digits and underscores; used in the API and in imports."),
    )
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For choice fields: a list of options."),
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    show_in_list = models.BooleanField(_("show in lists"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["content_type", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "key"], name="custom_field_key_once")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self.label_zh, self.label_en)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=40)
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(_("link"), max_length=500, blank=True)
    is_read = models.BooleanField(_("read"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "is_read", "-created_at"])]

    def __str__(self) -> str:
        return self.text
