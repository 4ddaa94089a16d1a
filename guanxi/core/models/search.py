"""The search index table. The full-text side (SQLite FTS5 / PostgreSQL tsvector) is kept by
guanxi.core.search.backends; this row holds what a result shows and what scope needs."""

from django.contrib.contenttypes.models import ContentType
from django.db import models


class SearchEntry(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=255)
    subtitle = models.CharField(max_length=255, blank=True)
    # Space-separated normalised tokens: words, CJK bigrams, pinyin, initials, digits.
    document = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="search_entry_once")
        ]
