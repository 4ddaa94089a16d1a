from guanxi.core.models.configuration import (
    CustomField,
    CustomFieldType,
    Notification,
    Picklist,
    PicklistOption,
)
from guanxi.core.models.imports import (
    DuplicatePolicy,
    ImportedRow,
    ImportJob,
    ImportRowError,
    ImportStatus,
)
from guanxi.core.models.organisation import SCOPE_WIDTH, Action, DataScope, Department, Role, User
from guanxi.core.models.records import (
    Attachment,
    ChangeAction,
    ChangeRecord,
    OwnedModel,
    RecordShare,
    ShareAccess,
    Tag,
    TaggedItem,
    TeamMember,
    TimelineEntry,
)
from guanxi.core.models.search import SearchEntry
from guanxi.core.models.views import SavedView

__all__ = [
    "SCOPE_WIDTH",
    "Action",
    "Attachment",
    "ChangeAction",
    "ChangeRecord",
    "CustomField",
    "CustomFieldType",
    "DataScope",
    "Department",
    "Notification",
    "OwnedModel",
    "Picklist",
    "PicklistOption",
    "RecordShare",
    "Role",
    "SavedView",
    "SearchEntry",
    "ShareAccess",
    "Tag",
    "TaggedItem",
    "TeamMember",
    "TimelineEntry",
    "User",
    "DuplicatePolicy",
    "ImportedRow",
    "ImportJob",
    "ImportRowError",
    "ImportStatus",
]
