"""Accounts (客户). The platform issue lands the core of the model so the generic views,
the data scope and the search can be proven on a real record; the customers issue fills in
the rest of SPEC §2."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel


class Account(OwnedModel):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    industry = models.ForeignKey(
        "core.PicklistOption",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"picklist__code": "industry", "is_active": True},
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["department", "-created_at"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name
