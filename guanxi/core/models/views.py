"""Saved list views: a user's named filter, sort and column choice for one model's list."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    model_label = models.CharField(_("model"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    query_string = models.TextField(_("query string"), blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    is_default = models.BooleanField(_("default view"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "model_label", "name"], name="saved_view_name_once"
            )
        ]
        indexes = [models.Index(fields=["user", "model_label"])]

    def __str__(self) -> str:
        return self.name
