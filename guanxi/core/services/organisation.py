"""Writes to the organisation: departments (tree), users and roles. All audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, Department, Role, User
from guanxi.core.scope import is_administrator
from guanxi.core.search import index_object
from guanxi.core.services.records import audit_record, snapshot


def require_administrator(actor: User | None) -> None:
    # actor None means a system job (migration, demo loader, CLI), which may do anything.
    if actor is not None and not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change the organisation."))


def _audit_changes(instance, before: dict, actor: User | None) -> None:
    after = snapshot(instance)
    changed = [key for key in after if before.get(key) != after.get(key)]
    if changed:
        audit_record(
            instance=instance,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={key: before.get(key) for key in changed},
            after={key: after.get(key) for key in changed},
        )


def _set_path(department: Department) -> None:
    parent_path = department.parent.path if department.parent_id else "/"
    department.path = f"{parent_path}{department.pk}/"
    department.depth = department.path.count("/") - 2


@transaction.atomic
def department_create(
    *, name: str, actor: User | None, parent: Department | None = None, **fields: Any
) -> Department:
    require_administrator(actor)
    department = Department(name=name, parent=parent, **fields)
    department.full_clean(exclude=["path"])
    department.save()
    _set_path(department)
    department.save(update_fields=["path", "depth"])
    audit_record(
        instance=department, action=ChangeAction.CREATE, actor=actor, after=snapshot(department)
    )
    index_object(department)
    return department


@transaction.atomic
def department_update(*, department: Department, actor: User | None, **fields: Any) -> Department:
    require_administrator(actor)
    before = snapshot(department)
    old_path = department.path
    new_parent = fields.get("parent", department.parent)
    if new_parent is not None and new_parent.path.startswith(old_path):
        raise ValidationError({"parent": [_("A department cannot be moved below itself.")]})
    for name, value in fields.items():
        setattr(department, name, value)
    department.full_clean(exclude=["path"])
    _set_path(department)
    department.save()
    if department.path != old_path:
        # Rewrite the whole subtree's paths in one statement.
        descendants = Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk)
        descendants.update(path=Concat(Value(department.path), Substr("path", len(old_path) + 1)))
        for child in Department.objects.filter(path__startswith=department.path).exclude(
            pk=department.pk
        ):
            child.depth = child.path.count("/") - 2
            child.save(update_fields=["depth"])
    _audit_changes(department, before, actor)
    index_object(department)
    return department


@transaction.atomic
def department_delete(*, department: Department, actor: User | None) -> None:
    require_administrator(actor)
    if department.children.exists():
        raise ValidationError(_("Move or delete the sub-departments first."))
    if department.members.exists():
        raise ValidationError(_("Move the department's members to another department first."))
    audit_record(
        instance=department, action=ChangeAction.DELETE, actor=actor, before=snapshot(department)
    )
    department.delete()


USER_FIELDS = {
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "department",
    "manager",
    "language",
    "time_zone",
    "is_active",
}


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    actor: User | None,
    roles: list[Role] | None = None,
    is_superuser: bool = False,
    **fields: Any,
) -> User:
    require_administrator(actor)
    unknown = set(fields) - USER_FIELDS
    if unknown:
        raise ValueError(f"unknown user fields: {sorted(unknown)}")
    user = User(username=username, is_superuser=is_superuser, is_staff=is_superuser, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if roles:
        user.roles.set(roles)
    after = snapshot(user)
    after.pop("password", None)
    after["roles"] = [role.code for role in roles or []]
    audit_record(instance=user, action=ChangeAction.CREATE, actor=actor, after=after)
    index_object(user)
    return user


@transaction.atomic
def user_update(
    *, user: User, actor: User | None, roles: list[Role] | None = None, **fields: Any
) -> User:
    require_administrator(actor)
    unknown = set(fields) - USER_FIELDS
    if unknown:
        raise ValueError(f"unknown user fields: {sorted(unknown)}")
    if actor is not None and user.pk == actor.pk and fields.get("is_active") is False:
        raise ValidationError({"is_active": [_("You cannot deactivate yourself.")]})
    before = snapshot(user)
    before["roles"] = sorted(user.roles.values_list("code", flat=True))
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        user.roles.set(roles)
        user._guanxi_roles = None
    after = snapshot(user)
    after["roles"] = sorted(user.roles.values_list("code", flat=True))
    before.pop("password", None)
    after.pop("password", None)
    _audit_changes_from(user, before, after, actor)
    index_object(user)
    return user


def _audit_changes_from(instance, before: dict, after: dict, actor: User | None) -> None:
    changed = [key for key in after if before.get(key) != after.get(key)]
    if changed:
        audit_record(
            instance=instance,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={key: before.get(key) for key in changed},
            after={key: after.get(key) for key in changed},
        )


@transaction.atomic
def user_set_preferences(*, user: User, language: str | None = None, time_zone: str | None = None):
    """What a user may change about themselves without an administrator."""
    before = snapshot(user)
    if language is not None:
        if language not in User.Language.values:
            raise ValidationError({"language": [_("Choose a supported language.")]})
        user.language = language
    if time_zone is not None:
        import zoneinfo

        if time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": [_("Choose a valid time zone.")]})
        user.time_zone = time_zone
    user.save(update_fields=["language", "time_zone"])
    before.pop("password", None)
    _audit_changes(user, before, user)
    return user


@transaction.atomic
def role_create(*, actor: User | None, **fields: Any) -> Role:
    require_administrator(actor)
    role = Role(**fields)
    role_validate_permissions(role.permissions)
    role.full_clean()
    role.save()
    audit_record(instance=role, action=ChangeAction.CREATE, actor=actor, after=snapshot(role))
    return role


@transaction.atomic
def role_update(*, role: Role, actor: User | None, **fields: Any) -> Role:
    require_administrator(actor)
    before = snapshot(role)
    for name, value in fields.items():
        setattr(role, name, value)
    role_validate_permissions(role.permissions)
    role.full_clean()
    role.save()
    _audit_changes(role, before, actor)
    return role


@transaction.atomic
def role_delete(*, role: Role, actor: User | None) -> None:
    require_administrator(actor)
    if role.users.exists():
        raise ValidationError(_("This role is still given to users; take it from them first."))
    audit_record(instance=role, action=ChangeAction.DELETE, actor=actor, before=snapshot(role))
    role.delete()


def role_validate_permissions(permissions: Any) -> None:
    from guanxi.core.models import Action

    if not isinstance(permissions, dict):
        raise ValidationError({"permissions": [_("Permissions must map models to actions.")]})
    for label, actions in permissions.items():
        if not isinstance(actions, list) or any(a not in Action.values for a in actions):
            raise ValidationError(
                {"permissions": [_("Unknown action for %(model)s.") % {"model": label}]}
            )


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User | None) -> User:
    """An administrator sets a new password for a user (the hash never enters the history)."""
    from django.contrib.auth.password_validation import validate_password

    require_administrator(actor)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        instance=user,
        action=ChangeAction.UPDATE,
        actor=actor,
        after={"password": "******"},
        message="password reset",
    )
    return user
