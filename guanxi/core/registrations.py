"""What core itself registers with the registries it owns (search, views)."""

from guanxi.core.models import Department, User
from guanxi.core.search.registry import register_search


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _user_scope(user):
    """Every active signed-in user may find every active colleague."""
    return User.objects.filter(is_active=True) if _signed_in(user) else User.objects.none()


def _department_scope(user):
    return Department.objects.all() if _signed_in(user) else Department.objects.none()


def _user_title(user: User) -> str:
    return str(user)


def _user_full_name(user: User) -> str:
    # Chinese order: family name first (张 + 伟).
    return f"{user.last_name}{user.first_name}"


def _user_subtitle(user: User) -> str:
    department = user.department.name if user.department_id else ""
    return " · ".join(part for part in (department, user.email) if part)


register_search(
    User,
    title=_user_title,
    person_fields=[_user_title, "display_name", _user_full_name],
    fields=["username"],
    phone_fields=["phone"],
    email_fields=["email"],
    subtitle=_user_subtitle,
    scope=_user_scope,
    select_related=["department"],
)

register_search(
    Department,
    title="name",
    subtitle=lambda department: department.parent.name if department.parent_id else "",
    scope=_department_scope,
    select_related=["parent"],
)

# The import engine's API viewset and background jobs register themselves when imported.
from guanxi.core import tasks as _core_tasks  # noqa: E402, F401
from guanxi.core.imports import api as _imports_api  # noqa: E402, F401
from guanxi.core.imports import tasks as _imports_tasks  # noqa: E402, F401
