"""Administrator screens: users, departments, roles, picklists, custom fields, tags and the
recycle bin. Thin: forms check input, services write (and audit), errors go back to the form.
"""

from functools import wraps

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, ProtectedError, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.forms.admin import (
    ROLE_ACTIONS,
    CustomFieldForm,
    DepartmentForm,
    PasswordResetForm,
    PicklistForm,
    PicklistOptionForm,
    RoleForm,
    TagForm,
    UserCreateForm,
    UserForm,
    apply_service_errors,
)
from guanxi.core.models import (
    CustomField,
    Department,
    Picklist,
    PicklistOption,
    Role,
    Tag,
    User,
)
from guanxi.core.scope import is_administrator
from guanxi.core.selectors import owned_models, recycle_bin
from guanxi.core.services.configuration import (
    custom_field_create,
    custom_field_update,
    picklist_create,
    picklist_option_create,
    picklist_option_update,
    picklist_options_reorder,
    picklist_update,
    tag_create,
    tag_delete,
    tag_update,
)
from guanxi.core.services.organisation import (
    department_create,
    department_delete,
    department_update,
    role_create,
    role_delete,
    role_update,
    user_create,
    user_set_password,
    user_update,
)
from guanxi.core.services.records import record_purge, record_restore
from guanxi.core.views.notifications import page_slice

RECYCLE_PREVIEW = 20


def administrator_required(view):
    """Signed-in administrators only; everybody else gets 403. Service refusals become 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_administrator(request.user):
            raise PermissionDenied(_("Only an administrator can open this page."))
        try:
            return view(request, *args, **kwargs)
        except ActionNotAllowed as error:
            raise PermissionDenied(str(error)) from error

    return wrapper


def _form_page(
    request, form, *, title: str, cancel_url: str, template="core/admin/form.html", **extra
):
    return render(
        request,
        template,
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
    )


def _confirm_page(request, *, title: str, question: str, cancel_url: str, danger=True, error=""):
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": title,
            "question": question,
            "cancel_url": cancel_url,
            "danger": danger,
            "error": error,
        },
        status=400 if error else 200,
    )


def _save_with_service(
    request, form, save, *, success: str, list_url, on_error=apply_service_errors
):
    """On a valid POST, call ``save(cleaned_data)`` and redirect; otherwise return None.

    ``save`` returns the saved object, which fills ``%(name)s`` in the ``success`` message.
    ``list_url`` is a URL, a URL name, or a callable taking the saved object. A
    ValidationError from the service goes back onto the form through ``on_error``.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ValidationError as error:
        on_error(form, error)
        return None
    messages.success(request, success % {"name": saved})
    return redirect(list_url(saved) if callable(list_url) else list_url)


def _delete_link(url_name: str, pk: int) -> dict:
    """The red "Delete" link shown next to an edit form."""
    return {
        "url": reverse(url_name, args=[pk]),
        "label": _("Delete"),
        "icon": "bi-trash",
        "danger": True,
    }


def _confirm_delete(request, *, obj, delete, list_url: str, title: str, question: str, success):
    """Ask first; on POST call ``delete()``, flash ``success`` (``%(name)s`` is ``obj``) and
    go back to the list. A ValidationError from the service is shown on the confirm page."""
    if request.method == "POST":
        try:
            delete()
        except ValidationError as error:
            return _confirm_page(
                request,
                title=title,
                question=question,
                cancel_url=list_url,
                error=" ".join(error.messages),
            )
        messages.success(request, success % {"name": obj})
        return redirect(list_url)
    return _confirm_page(request, title=title, question=question, cancel_url=list_url)


def _model_label(model) -> str:
    return model._meta.label_lower


def _owned_model(label: str):
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    if model not in owned_models():
        raise Http404
    return model


def _owned_model_choices():
    return [
        (_model_label(model), capfirst(str(model._meta.verbose_name_plural)))
        for model in owned_models()
    ]


# --- Users ----------------------------------------------------------------------------------


@administrator_required
def user_list(request):
    users = (
        User.objects.select_related("department", "manager")
        .prefetch_related("roles")
        .order_by("username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__icontains=query)
        )
    status = request.GET.get("status", "")
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    return render(
        request,
        "core/admin/user_list.html",
        {"page": page_slice(users, request, per_page=50), "query": query, "status": status},
    )


@administrator_required
def user_create_view(request):
    form = UserCreateForm(request.POST or None)
    done = _save_with_service(
        request,
        form,
        lambda data: user_create(
            password=data["password1"],
            actor=request.user,
            roles=list(data["roles"]),
            **form.service_data(),
        ),
        success=_("User %(name)s was created."),
        list_url="core:user_list",
    )
    return done or _form_page(
        request, form, title=_("New user"), cancel_url=reverse("core:user_list")
    )


@administrator_required
def user_edit_view(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = UserForm(request.POST or None, instance=user)
    done = _save_with_service(
        request,
        form,
        lambda data: user_update(
            user=user, actor=request.user, roles=list(data["roles"]), **form.service_data()
        ),
        success=_("User %(name)s was saved."),
        list_url="core:user_list",
    )
    return done or _form_page(
        request,
        form,
        title=_("Edit user %(name)s") % {"name": user.username},
        cancel_url=reverse("core:user_list"),
        extra_links=[
            {
                "url": reverse("core:user_password", args=[user.pk]),
                "label": _("Reset password"),
                "icon": "bi-key",
            }
        ],
    )


@administrator_required
def user_password_view(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = PasswordResetForm(request.POST or None, user=user)
    done = _save_with_service(
        request,
        form,
        lambda data: (
            user_set_password(user=user, password=data["password1"], actor=request.user).username
        ),
        success=_("The password of %(name)s was reset."),
        list_url="core:user_list",
    )
    return done or _form_page(
        request,
        form,
        title=_("Reset the password of %(name)s") % {"name": user.username},
        cancel_url=reverse("core:user_edit", args=[user.pk]),
    )


# --- Departments ----------------------------------------------------------------------------


@administrator_required
def department_list(request):
    departments = (
        Department.objects.select_related("manager")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("path")
    )
    return render(request, "core/admin/department_list.html", {"departments": departments})


def _department_fields(data) -> dict:
    return {
        "name": data["name"],
        "parent": data["parent"],
        "manager": data["manager"],
        "sort_order": data["sort_order"],
    }


@administrator_required
def department_create_view(request):
    initial = {}
    parent_id = request.GET.get("parent")
    if parent_id and parent_id.isdigit():
        initial["parent"] = Department.objects.filter(pk=parent_id).first()
    form = DepartmentForm(request.POST or None, initial=initial)
    done = _save_with_service(
        request,
        form,
        lambda data: department_create(actor=request.user, **_department_fields(data)),
        success=_("Department %(name)s was created."),
        list_url="core:department_list",
    )
    return done or _form_page(
        request, form, title=_("New department"), cancel_url=reverse("core:department_list")
    )


@administrator_required
def department_edit_view(request, pk: int):
    department = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None, instance=department)
    done = _save_with_service(
        request,
        form,
        lambda data: department_update(
            department=department, actor=request.user, **_department_fields(data)
        ),
        success=_("Department %(name)s was saved."),
        list_url="core:department_list",
    )
    return done or _form_page(
        request,
        form,
        title=_("Edit department %(name)s") % {"name": department.name},
        cancel_url=reverse("core:department_list"),
        extra_links=[_delete_link("core:department_delete", department.pk)],
    )


@administrator_required
def department_delete_view(request, pk: int):
    department = get_object_or_404(Department, pk=pk)
    return _confirm_delete(
        request,
        obj=department,
        delete=lambda: department_delete(department=department, actor=request.user),
        list_url=reverse("core:department_list"),
        title=_("Delete department %(name)s") % {"name": department.name},
        question=_("Delete the department %(name)s? This cannot be undone.")
        % {"name": department.name},
        success=_("Department %(name)s was deleted."),
    )


# --- Roles ----------------------------------------------------------------------------------


@administrator_required
def role_list(request):
    roles = Role.objects.annotate(user_count=Count("users", distinct=True)).order_by("code")
    return render(request, "core/admin/role_list.html", {"roles": roles})


def _role_form(request, role=None):
    return RoleForm(request.POST or None, instance=role, model_rows=_owned_model_choices())


def _role_fields(form) -> dict:
    data = form.cleaned_data
    return {
        "name_zh": data["name_zh"],
        "name_en": data["name_en"],
        "data_scope": data["data_scope"],
        "is_admin": data["is_admin"],
        "see_contact_details": data["see_contact_details"],
        "permissions": form.permissions(),
    }


def _role_page(request, form, *, title: str, **extra):
    return _form_page(
        request,
        form,
        title=title,
        cancel_url=reverse("core:role_list"),
        template="core/admin/role_form.html",
        actions=ROLE_ACTIONS,
        **extra,
    )


@administrator_required
def role_create_view(request):
    form = _role_form(request)
    done = _save_with_service(
        request,
        form,
        lambda data: role_create(actor=request.user, code=data["code"], **_role_fields(form)),
        success=_("Role %(name)s was created."),
        list_url="core:role_list",
    )
    return done or _role_page(request, form, title=_("New role"))


@administrator_required
def role_edit_view(request, pk: int):
    role = get_object_or_404(Role, pk=pk)
    form = _role_form(request, role)
    done = _save_with_service(
        request,
        form,
        lambda data: role_update(role=role, actor=request.user, **_role_fields(form)),
        success=_("Role %(name)s was saved."),
        list_url="core:role_list",
    )
    return done or _role_page(
        request,
        form,
        title=_("Edit role %(name)s") % {"name": role},
        extra_links=[_delete_link("core:role_delete", role.pk)],
    )


@administrator_required
def role_delete_view(request, pk: int):
    role = get_object_or_404(Role, pk=pk)
    return _confirm_delete(
        request,
        obj=role,
        delete=lambda: role_delete(role=role, actor=request.user),
        list_url=reverse("core:role_list"),
        title=_("Delete role %(name)s") % {"name": role},
        question=_("Delete the role %(name)s? This cannot be undone.") % {"name": role},
        success=_("Role %(name)s was deleted."),
    )


# --- Picklists ------------------------------------------------------------------------------


@administrator_required
def picklist_list(request):
    picklists = Picklist.objects.annotate(option_count=Count("options")).order_by("code")
    return render(request, "core/admin/picklist_list.html", {"picklists": picklists})


def _picklist_url(picklist) -> str:
    return reverse("core:picklist_detail", args=[picklist.pk])


@administrator_required
def picklist_create_view(request):
    form = PicklistForm(request.POST or None)
    done = _save_with_service(
        request,
        form,
        lambda data: picklist_create(actor=request.user, **data),
        success=_("Picklist %(name)s was created."),
        list_url=_picklist_url,
    )
    return done or _form_page(
        request, form, title=_("New picklist"), cancel_url=reverse("core:picklist_list")
    )


def _picklist_page(request, picklist, *, form=None, option_form=None, status=200):
    return render(
        request,
        "core/admin/picklist_detail.html",
        {
            "picklist": picklist,
            "options": list(picklist.options.order_by("sort_order", "id")),
            "form": form or PicklistForm(instance=picklist),
            "option_form": option_form or PicklistOptionForm(),
        },
        status=status,
    )


@administrator_required
def picklist_detail(request, pk: int):
    """The picklist's names, its options in order, and a form to add one."""
    picklist = get_object_or_404(Picklist, pk=pk)
    if request.method != "POST":
        return _picklist_page(request, picklist)
    form = PicklistForm(request.POST, instance=picklist)
    done = _save_with_service(
        request,
        form,
        lambda data: picklist_update(
            picklist=picklist,
            actor=request.user,
            name_zh=data["name_zh"],
            name_en=data["name_en"],
        ),
        success=_("Picklist %(name)s was saved."),
        list_url=_picklist_url(picklist),
    )
    return done or _picklist_page(request, picklist, form=form, status=400)


@administrator_required
@require_POST
def picklist_option_create_view(request, pk: int):
    picklist = get_object_or_404(Picklist, pk=pk)
    form = PicklistOptionForm(request.POST)

    def on_error(form, error):
        if (
            "__all__" in getattr(error, "message_dict", {})
            and picklist.options.filter(value=form.cleaned_data["value"]).exists()
        ):
            form.add_error("value", _("This value is used by another option already."))
        else:
            apply_service_errors(form, error)

    done = _save_with_service(
        request,
        form,
        lambda data: picklist_option_create(
            actor=request.user,
            picklist=picklist,
            value=data["value"],
            label_zh=data["label_zh"],
            label_en=data["label_en"],
            is_active=data["is_active"],
            is_default=data["is_default"],
            icon=data["icon"],
            color=data["color"],
        ),
        success=_("Option %(name)s was added."),
        list_url=_picklist_url(picklist),
        on_error=on_error,
    )
    return done or _picklist_page(request, picklist, option_form=form, status=400)


@administrator_required
def picklist_option_edit_view(request, pk: int, option_pk: int):
    option = get_object_or_404(PicklistOption, pk=option_pk, picklist_id=pk)
    form = PicklistOptionForm(request.POST or None, instance=option)
    done = _save_with_service(
        request,
        form,
        lambda data: picklist_option_update(
            option=option, actor=request.user, **form.service_data()
        ),
        success=_("Option %(name)s was saved."),
        list_url=reverse("core:picklist_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        form,
        title=_("Edit option %(name)s") % {"name": option.value},
        cancel_url=reverse("core:picklist_detail", args=[pk]),
    )


@administrator_required
@require_POST
def picklist_option_move_view(request, pk: int, option_pk: int):
    """Move an option one place up or down."""
    picklist = get_object_or_404(Picklist, pk=pk)
    ids = list(picklist.options.order_by("sort_order", "id").values_list("pk", flat=True))
    if option_pk not in ids:
        raise Http404
    index = ids.index(option_pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        try:
            picklist_options_reorder(picklist=picklist, option_ids=ids, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("core:picklist_detail", pk=picklist.pk)


# --- Custom fields --------------------------------------------------------------------------


@administrator_required
def customfield_list(request):
    choices = _owned_model_choices()
    selected = request.GET.get("model", "")
    fields = CustomField.objects.select_related("content_type").order_by(
        "content_type__app_label", "content_type__model", "sort_order", "id"
    )
    if selected:
        app_label, _sep, model_name = selected.partition(".")
        fields = fields.filter(content_type__app_label=app_label, content_type__model=model_name)
    names = dict(choices)
    rows = [
        {
            "field": field,
            "model_name": names.get(
                f"{field.content_type.app_label}.{field.content_type.model}",
                field.content_type.name,
            ),
        }
        for field in fields
    ]
    return render(
        request,
        "core/admin/customfield_list.html",
        {"rows": rows, "model_choices": choices, "selected": selected},
    )


def _content_type(label: str) -> ContentType:
    app_label, _sep, model_name = label.partition(".")
    return ContentType.objects.get_by_natural_key(app_label, model_name)


@administrator_required
def customfield_create_view(request):
    choices = _owned_model_choices()
    initial = {}
    if request.GET.get("model") in dict(choices):
        initial["model"] = request.GET["model"]
    form = CustomFieldForm(request.POST or None, model_choices=choices, initial=initial)

    def on_error(form, error):
        data = form.cleaned_data
        if CustomField.objects.filter(
            content_type=_content_type(data["model"]), key=data["key"]
        ).exists():
            form.add_error("key", _("This model has a field with this key already."))
        else:
            apply_service_errors(form, error)

    done = _save_with_service(
        request,
        form,
        lambda data: custom_field_create(
            actor=request.user,
            model=_content_type(data["model"]),
            key=data["key"],
            field_type=data["field_type"],
            **form.service_data(),
        ),
        success=_("Custom field %(name)s was created."),
        list_url=lambda field: (
            f"{reverse('core:customfield_list')}?model={form.cleaned_data['model']}"
        ),
        on_error=on_error,
    )
    return done or _form_page(
        request, form, title=_("New custom field"), cancel_url=reverse("core:customfield_list")
    )


@administrator_required
def customfield_edit_view(request, pk: int):
    field = get_object_or_404(CustomField.objects.select_related("content_type"), pk=pk)
    form = CustomFieldForm(
        request.POST or None, instance=field, model_choices=_owned_model_choices()
    )
    done = _save_with_service(
        request,
        form,
        lambda data: custom_field_update(field=field, actor=request.user, **form.service_data()),
        success=_("Custom field %(name)s was saved."),
        list_url="core:customfield_list",
    )
    return done or _form_page(
        request,
        form,
        title=_("Edit custom field %(name)s") % {"name": field.key},
        cancel_url=reverse("core:customfield_list"),
    )


# --- Tags -----------------------------------------------------------------------------------


@administrator_required
def tag_list(request):
    tags = Tag.objects.annotate(usage=Count("items")).order_by("name")
    return render(request, "core/admin/tag_list.html", {"tags": tags})


@administrator_required
def tag_create_view(request):
    form = TagForm(request.POST or None)
    done = _save_with_service(
        request,
        form,
        lambda data: tag_create(actor=request.user, **data),
        success=_("Tag %(name)s was created."),
        list_url="core:tag_list",
    )
    return done or _form_page(
        request, form, title=_("New tag"), cancel_url=reverse("core:tag_list")
    )


@administrator_required
def tag_edit_view(request, pk: int):
    tag = get_object_or_404(Tag, pk=pk)
    form = TagForm(request.POST or None, instance=tag)
    done = _save_with_service(
        request,
        form,
        lambda data: tag_update(tag=tag, actor=request.user, **data),
        success=_("Tag %(name)s was saved."),
        list_url="core:tag_list",
    )
    return done or _form_page(
        request,
        form,
        title=_("Edit tag %(name)s") % {"name": tag.name},
        cancel_url=reverse("core:tag_list"),
        extra_links=[_delete_link("core:tag_delete", tag.pk)],
    )


@administrator_required
def tag_delete_view(request, pk: int):
    tag = get_object_or_404(Tag, pk=pk)
    return _confirm_delete(
        request,
        obj=tag,
        delete=lambda: tag_delete(tag=tag, actor=request.user),
        list_url=reverse("core:tag_list"),
        title=_("Delete tag %(name)s") % {"name": tag.name},
        question=_("Delete the tag %(name)s? It is removed from every record that carries it.")
        % {"name": tag.name},
        success=_("Tag %(name)s was deleted."),
    )


# --- Recycle bin ----------------------------------------------------------------------------


@administrator_required
def recycle_bin_view(request):
    """Deleted records of every owned model; ?model= pages through one model."""
    selected = request.GET.get("model", "")
    sections = []
    page = None
    for model in owned_models():
        label = _model_label(model)
        if selected and label != selected:
            continue
        deleted = recycle_bin(model=model).order_by("-deleted_at", "-pk")
        if selected:
            page = page_slice(deleted, request, per_page=50)
            items, more = page["items"], False
        else:
            rows = list(deleted[: RECYCLE_PREVIEW + 1])
            items, more = rows[:RECYCLE_PREVIEW], len(rows) > RECYCLE_PREVIEW
        sections.append(
            {
                "label": label,
                "name": capfirst(str(model._meta.verbose_name_plural)),
                "items": items,
                "more": more,
            }
        )
    return render(
        request,
        "core/admin/recycle_bin.html",
        {
            "sections": sections,
            "selected": selected,
            "page": page,
            "model_choices": _owned_model_choices(),
        },
    )


def _deleted_record(label: str, pk: int):
    model = _owned_model(label)
    record = model.all_objects.filter(pk=pk, is_deleted=True).first()
    if record is None:
        raise Http404
    return model, record


@administrator_required
@require_POST
def recycle_restore_view(request, label: str, pk: int):
    model, record = _deleted_record(label, pk)
    record_restore(model=model, pk=record.pk, actor=request.user)
    messages.success(request, _("%(name)s was restored.") % {"name": record})
    return redirect(f"{reverse('core:recycle_bin')}?model={label}")


@administrator_required
def recycle_purge_view(request, label: str, pk: int):
    model, record = _deleted_record(label, pk)
    cancel = reverse("core:recycle_bin")
    title = _("Delete forever")
    question = _(
        "Delete %(name)s (%(model)s) forever? It cannot be restored afterwards; "
        "its history is kept."
    ) % {"name": record, "model": model._meta.verbose_name}
    if request.method == "POST":
        try:
            record_purge(model=model, pk=record.pk, actor=request.user)
        except ProtectedError:
            return _confirm_page(
                request,
                title=title,
                question=question,
                cancel_url=cancel,
                error=_("Other records still refer to this one; it cannot be deleted forever."),
            )
        messages.success(request, _("%(name)s was deleted forever.") % {"name": record})
        return redirect(cancel)
    return _confirm_page(request, title=title, question=question, cancel_url=cancel)
