"""Background jobs of core: follow-up work that bulk writes hand over after commit."""

from django.apps import apps
from huey.contrib.djhuey import db_task

from guanxi.core.search.index import index_objects


@db_task(retries=3, retry_delay=10)
def index_records_task(model_label: str, ids: list[int]) -> int:
    """Index records written in bulk (imports); idempotent, so a retry is harmless."""
    return index_objects(apps.get_model(model_label), ids)
