"""Administrator screens: only administrators, every write through the audited services."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    CustomField,
    Department,
    Picklist,
    PicklistOption,
    Role,
    Tag,
    User,
)
from guanxi.core.services.organisation import user_create
from guanxi.core.services.records import record_create, record_delete
from guanxi.core.tests.factories import role
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def admin_client(client, org):
    org.admin.language = "en"
    org.admin.save(update_fields=["language"])
    client.force_login(org.admin)
    return client


def audited(instance, action=ChangeAction.CREATE, actor=None):
    records = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        action=action,
    )
    if actor is not None:
        records = records.filter(actor=actor)
    return records.exists()


ADMIN_PAGES = [
    "core:user_list",
    "core:user_create",
    "core:department_list",
    "core:department_create",
    "core:role_list",
    "core:role_create",
    "core:picklist_list",
    "core:picklist_create",
    "core:customfield_list",
    "core:customfield_create",
    "core:tag_list",
    "core:tag_create",
    "core:recycle_bin",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_open_for_an_administrator(admin_client, name):
    assert admin_client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_a_rep(client, org, name):
    client.force_login(org.rep1)
    assert client.get(reverse(name)).status_code == 403


def test_admin_writes_are_forbidden_to_a_manager(client, org):
    client.force_login(org.manager)
    response = client.post(reverse("core:tag_create"), {"name": "VIP", "color": "danger"})
    assert response.status_code == 403
    assert not Tag.objects.filter(name="VIP").exists()
    response = client.post(
        reverse("core:department_edit", args=[org.east.pk]),
        {"name": "hacked", "sort_order": 0},
    )
    assert response.status_code == 403
    org.east.refresh_from_db()
    assert org.east.name == "华东销售部"


def test_admin_pages_need_a_sign_in(client, org):
    response = client.get(reverse("core:user_list"))
    assert response.status_code == 302 and reverse("login") in response.url


# --- Users ----------------------------------------------------------------------------------


def test_user_list_shows_department_roles_and_status(admin_client, org):
    org.rep3.is_active = False
    org.rep3.save(update_fields=["is_active"])
    body = admin_client.get(reverse("core:user_list")).content.decode()
    assert "华东销售部" in body and "Sales rep" in body and "Disabled" in body
    found = admin_client.get(reverse("core:user_list"), {"q": "rep"}).context["page"]["items"]
    assert {user.username for user in found} == {"rep1", "rep2", "rep3"}
    inactive = admin_client.get(reverse("core:user_list"), {"status": "inactive"})
    assert [user.username for user in inactive.context["page"]["items"]] == ["rep3"]


def test_create_user_through_the_screen(admin_client, org):
    response = admin_client.post(
        reverse("core:user_create"),
        {
            "username": "zhang.wei",
            "display_name": "张伟",
            "email": "zhang.wei@example.com",
            "department": org.north.pk,
            "manager": org.manager.pk,
            "roles": [role("sales_rep").pk, role("marketing").pk],
            "language": "zh-hans",
            "time_zone": "Asia/Shanghai",
            "is_active": "on",
            "password1": "Long-Enough-Secret-9",
            "password2": "Long-Enough-Secret-9",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="zhang.wei")
    assert user.department == org.north and user.manager == org.manager
    assert set(user.roles.values_list("code", flat=True)) == {"sales_rep", "marketing"}
    assert user.check_password("Long-Enough-Secret-9")
    assert audited(user, actor=org.admin)


def test_create_user_refuses_a_weak_or_mismatched_password(admin_client, org):
    base = {
        "username": "weak",
        "language": "en",
        "time_zone": "Asia/Shanghai",
        "is_active": "on",
    }
    response = admin_client.post(
        reverse("core:user_create"), {**base, "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    response = admin_client.post(
        reverse("core:user_create"),
        {**base, "password1": "Long-Enough-Secret-9", "password2": "Other-Secret-99"},
    )
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(username="weak").exists()


def test_create_user_refuses_a_taken_username(admin_client, org):
    response = admin_client.post(
        reverse("core:user_create"),
        {
            "username": "REP1",
            "language": "en",
            "time_zone": "Asia/Shanghai",
            "password1": "Long-Enough-Secret-9",
            "password2": "Long-Enough-Secret-9",
        },
    )
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


def test_edit_user_roles_department_and_active(admin_client, org):
    response = admin_client.get(reverse("core:user_edit", args=[org.rep1.pk]))
    assert response.status_code == 200
    response = admin_client.post(
        reverse("core:user_edit", args=[org.rep1.pk]),
        {
            "username": "rep1",
            "display_name": "Rep One",
            "department": org.north.pk,
            "roles": [role("sales_manager").pk],
            "language": "en",
            "time_zone": "Asia/Shanghai",
        },  # is_active left unticked: the user is disabled
    )
    assert response.status_code == 302
    org.rep1.refresh_from_db()
    assert org.rep1.department == org.north
    assert not org.rep1.is_active
    assert list(org.rep1.roles.values_list("code", flat=True)) == ["sales_manager"]
    assert audited(org.rep1, action=ChangeAction.UPDATE, actor=org.admin)


def test_administrator_cannot_disable_themself(admin_client, org):
    response = admin_client.post(
        reverse("core:user_edit", args=[org.admin.pk]),
        {
            "username": "admin",
            "roles": [role("admin").pk],
            "language": "en",
            "time_zone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.content.decode()
    org.admin.refresh_from_db()
    assert org.admin.is_active


def test_reset_password(admin_client, org):
    response = admin_client.post(
        reverse("core:user_password", args=[org.rep2.pk]),
        {"password1": "Fresh-Start-2024", "password2": "Fresh-Start-2024"},
    )
    assert response.status_code == 302
    org.rep2.refresh_from_db()
    assert org.rep2.check_password("Fresh-Start-2024")
    change = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=org.rep2.pk
    ).first()
    assert change.actor == org.admin
    assert org.rep2.password not in str(change.after)


def test_user_list_query_count_does_not_grow(admin_client, org):
    def count():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse("core:user_list"))
        assert response.status_code == 200
        return len(captured)

    few = count()
    for number in range(15):
        user_create(
            username=f"extra{number}",
            password=None,
            actor=None,
            roles=[role("sales_rep"), role("marketing")],
            department=org.east,
            manager=org.manager,
        )
    assert count() == few
    assert few <= 10


# --- Departments ----------------------------------------------------------------------------


def test_department_tree_is_indented_in_path_order(admin_client, org):
    response = admin_client.get(reverse("core:department_list"))
    departments = list(response.context["departments"])
    assert [d.path for d in departments] == sorted(d.path for d in departments)
    body = response.content.decode()
    assert "--gx-depth: 1" in body
    assert body.index("销售中心") < body.index("华东销售部")


def test_create_department(admin_client, org):
    response = admin_client.post(
        reverse("core:department_create"),
        {"name": "华南销售部", "parent": org.division.pk, "manager": "", "sort_order": 3},
    )
    assert response.status_code == 302
    south = Department.objects.get(name="华南销售部")
    assert south.parent == org.division and south.depth == 1
    assert audited(south, actor=org.admin)


def test_moving_a_department_under_its_own_child_shows_the_error(admin_client, org):
    response = admin_client.post(
        reverse("core:department_edit", args=[org.division.pk]),
        {"name": "销售中心", "parent": org.east.pk, "sort_order": 0},
    )
    assert response.status_code == 200
    assert "A department cannot be moved below itself." in response.content.decode()
    org.division.refresh_from_db()
    assert org.division.parent is None


def test_moving_a_department_rewrites_the_subtree(admin_client, org):
    response = admin_client.post(
        reverse("core:department_edit", args=[org.east.pk]),
        {"name": "华东销售部", "parent": org.service.pk, "sort_order": 0},
    )
    assert response.status_code == 302
    org.east.refresh_from_db()
    assert org.east.path.startswith(org.service.path)


def test_deleting_a_non_empty_department_is_refused(admin_client, org):
    url = reverse("core:department_delete", args=[org.east.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and "Yes, I am sure" in confirm.content.decode()
    response = admin_client.post(url)
    assert response.status_code == 400
    assert "Move the department" in response.content.decode()
    assert Department.objects.filter(pk=org.east.pk).exists()


def test_deleting_an_empty_department(admin_client, org):
    empty = Department.objects.create(name="空部门", path="", depth=0)
    empty.path = f"/{empty.pk}/"
    empty.save()
    response = admin_client.post(reverse("core:department_delete", args=[empty.pk]))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=empty.pk).exists()


# --- Roles ----------------------------------------------------------------------------------


def test_role_form_shows_the_permission_matrix(admin_client):
    body = admin_client.get(reverse("core:role_create")).content.decode()
    assert 'name="perm__*__view"' in body
    assert 'name="perm__customers.account__export"' in body


def test_create_role_with_a_permission_matrix(admin_client, org):
    response = admin_client.post(
        reverse("core:role_create"),
        {
            "code": "auditor",
            "name_zh": "审计",
            "name_en": "Auditor",
            "data_scope": "all",
            "perm__*__view": "on",
            "perm__customers.account__view": "on",
            "perm__customers.account__export": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    auditor = Role.objects.get(code="auditor")
    assert auditor.permissions == {"*": ["view"], "customers.account": ["view", "export"]}
    assert not auditor.is_admin
    assert audited(auditor, actor=org.admin)


def test_edit_role_keeps_unknown_labels_and_code(admin_client, org):
    rep = role("sales_rep")
    rep.permissions = {"*": ["view"], "legacy.thing": ["view"]}
    rep.save()
    response = admin_client.post(
        reverse("core:role_edit", args=[rep.pk]),
        {
            "code": "changed",
            "name_zh": "销售代表",
            "name_en": "Sales rep",
            "data_scope": "department",
            "perm__*__view": "on",
            "perm__*__add": "on",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.code == "sales_rep"
    assert rep.data_scope == "department"
    assert rep.permissions == {"*": ["view", "add"], "legacy.thing": ["view"]}
    assert audited(rep, action=ChangeAction.UPDATE, actor=org.admin)


# --- Picklists ------------------------------------------------------------------------------


def test_picklist_options_add_edit_and_reorder(admin_client, org):
    industry = Picklist.objects.get(code="industry")
    page = admin_client.get(reverse("core:picklist_detail", args=[industry.pk]))
    assert page.status_code == 200 and "制造业" in page.content.decode()

    response = admin_client.post(
        reverse("core:picklist_option_create", args=[industry.pk]),
        {"value": "energy", "label_zh": "能源", "label_en": "Energy", "is_active": "on"},
    )
    assert response.status_code == 302
    energy = PicklistOption.objects.get(picklist=industry, value="energy")
    assert audited(energy, actor=org.admin)
    assert energy.sort_order == industry.options.count() - 1

    response = admin_client.post(
        reverse("core:picklist_option_edit", args=[industry.pk, energy.pk]),
        {"label_zh": "能源行业", "label_en": "Energy", "is_default": "on"},
    )
    assert response.status_code == 302
    energy.refresh_from_db()
    assert energy.label_zh == "能源行业" and energy.is_default and not energy.is_active

    admin_client.post(
        reverse("core:picklist_option_move", args=[industry.pk, energy.pk]), {"direction": "up"}
    )
    order = list(industry.options.order_by("sort_order").values_list("value", flat=True))
    assert order[-2:] == ["energy", "other"]


def test_picklist_option_value_must_be_unique(admin_client):
    industry = Picklist.objects.get(code="industry")
    response = admin_client.post(
        reverse("core:picklist_option_create", args=[industry.pk]),
        {"value": "it", "label_zh": "重复", "label_en": "Duplicate", "is_active": "on"},
    )
    assert response.status_code == 400
    assert response.context["option_form"].errors["value"]
    assert industry.options.filter(value="it").count() == 1


def test_create_picklist(admin_client, org):
    response = admin_client.post(
        reverse("core:picklist_create"),
        {"code": "rating", "name_zh": "评级", "name_en": "Rating"},
    )
    assert response.status_code == 302
    assert audited(Picklist.objects.get(code="rating"), actor=org.admin)


# --- Custom fields --------------------------------------------------------------------------


def test_create_and_edit_a_custom_field(admin_client, org):
    response = admin_client.post(
        reverse("core:customfield_create"),
        {
            "model": "customers.account",
            "key": "credit_level",
            "label_zh": "信用等级",
            "label_en": "Credit level",
            "field_type": "choice",
            "choices": "a|优秀\nb|良好\n\nc",
            "sort_order": 1,
            "show_in_list": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    field = CustomField.objects.get(key="credit_level")
    assert field.content_type == ContentType.objects.get_for_model(Account)
    assert field.choices == [
        {"value": "a", "label": "优秀"},
        {"value": "b", "label": "良好"},
        {"value": "c", "label": "c"},
    ]
    assert field.show_in_list and field.is_active and not field.required
    assert audited(field, actor=org.admin)

    edit_url = reverse("core:customfield_edit", args=[field.pk])
    assert "a|优秀" in admin_client.get(edit_url).content.decode()
    response = admin_client.post(
        edit_url,
        {
            "label_zh": "信用",
            "label_en": "Credit",
            "choices": "a|优秀",
            "sort_order": 2,
            "required": "on",
            "field_type": "text",  # disabled on edit: ignored
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.label_zh == "信用" and field.required and not field.is_active
    assert field.field_type == "choice"
    assert field.choices == [{"value": "a", "label": "优秀"}]


def test_choice_field_without_choices_is_refused(admin_client):
    response = admin_client.post(
        reverse("core:customfield_create"),
        {
            "model": "customers.account",
            "key": "level",
            "label_zh": "等级",
            "label_en": "Level",
            "field_type": "choice",
            "choices": "",
            "sort_order": 0,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["choices"]
    assert not CustomField.objects.filter(key="level").exists()


def test_custom_field_list_filters_by_model(admin_client):
    admin_client.post(
        reverse("core:customfield_create"),
        {
            "model": "customers.account",
            "key": "wechat",
            "label_zh": "微信",
            "label_en": "WeChat",
            "field_type": "text",
            "sort_order": 0,
            "is_active": "on",
        },
    )
    listed = admin_client.get(reverse("core:customfield_list"), {"model": "customers.account"})
    assert [row["field"].key for row in listed.context["rows"]] == ["wechat"]
    other = admin_client.get(reverse("core:customfield_list"), {"model": "core.nothing"})
    assert other.context["rows"] == []


# --- Tags -----------------------------------------------------------------------------------


def test_tags_create_edit_delete(admin_client, org):
    response = admin_client.post(reverse("core:tag_create"), {"name": "VIP", "color": "danger"})
    assert response.status_code == 302
    tag = Tag.objects.get(name="VIP")
    assert audited(tag, actor=org.admin)

    duplicate = admin_client.post(reverse("core:tag_create"), {"name": "VIP", "color": "info"})
    assert duplicate.status_code == 200 and duplicate.context["form"].errors

    admin_client.post(
        reverse("core:tag_edit", args=[tag.pk]), {"name": "重要客户", "color": "warning"}
    )
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("重要客户", "warning")

    delete_url = reverse("core:tag_delete", args=[tag.pk])
    assert admin_client.get(delete_url).status_code == 200
    assert Tag.objects.filter(pk=tag.pk).exists()  # a GET only asks for confirmation
    admin_client.post(delete_url)
    assert not Tag.objects.filter(pk=tag.pk).exists()


# --- Recycle bin ----------------------------------------------------------------------------


def deleted_account(org, name="回收测试有限公司"):
    account = record_create(model=Account, data={"name": name}, actor=org.rep1)
    record_delete(instance=account, actor=org.rep1)
    return account


def test_recycle_bin_lists_deleted_records_with_who_and_when(admin_client, org):
    deleted_account(org)
    response = admin_client.get(reverse("core:recycle_bin"))
    body = response.content.decode()
    assert "回收测试有限公司" in body
    section = next(s for s in response.context["sections"] if s["label"] == "customers.account")
    assert section["items"][0].deleted_by == org.rep1


def test_recycle_bin_restore_brings_the_account_back(admin_client, org):
    account = deleted_account(org)
    assert not Account.objects.filter(pk=account.pk).exists()
    assert (
        admin_client.get(
            reverse("core:recycle_restore", args=["customers.account", account.pk])
        ).status_code
        == 405
    )
    response = admin_client.post(
        reverse("core:recycle_restore", args=["customers.account", account.pk])
    )
    assert response.status_code == 302
    assert Account.objects.visible_to(org.rep1).filter(pk=account.pk).exists()
    assert audited(account, action=ChangeAction.RESTORE, actor=org.admin)


def test_recycle_bin_purge_asks_then_deletes_forever(admin_client, org):
    account = deleted_account(org)
    url = reverse("core:recycle_purge", args=["customers.account", account.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and "cannot be restored" in confirm.content.decode()
    assert Account.all_objects.filter(pk=account.pk).exists()
    admin_client.post(url)
    assert not Account.all_objects.filter(pk=account.pk).exists()
    assert audited(account, action=ChangeAction.PURGE, actor=org.admin)


def test_recycle_bin_refuses_live_records_and_unknown_models(admin_client, org):
    live = record_create(model=Account, data={"name": "Live"}, actor=org.rep1)
    restore = reverse("core:recycle_restore", args=["customers.account", live.pk])
    assert admin_client.post(restore).status_code == 404
    unknown = reverse("core:recycle_restore", args=["core.user", org.rep1.pk])
    assert admin_client.post(unknown).status_code == 404


def test_recycle_bin_is_forbidden_to_a_rep(client, org):
    account = deleted_account(org)
    client.force_login(org.rep1)
    response = client.post(reverse("core:recycle_restore", args=["customers.account", account.pk]))
    assert response.status_code == 403
    assert not Account.objects.filter(pk=account.pk).exists()


def test_picklist_option_icon_and_colour(admin_client):
    types = Picklist.objects.get(code="activity_type")
    response = admin_client.post(
        reverse("core:picklist_option_create", args=[types.pk]),
        {
            "value": "wechat",
            "label_zh": "微信",
            "label_en": "WeChat",
            "is_active": "on",
            "icon": "bi-wechat",
            "color": "#07c160",
        },
    )
    assert response.status_code == 302
    wechat = PicklistOption.objects.get(picklist=types, value="wechat")
    assert (wechat.icon, wechat.color) == ("bi-wechat", "#07c160")
    page = admin_client.get(reverse("core:picklist_detail", args=[types.pk])).content.decode()
    assert 'class="bi bi-wechat me-1" style="color: #07c160"' in page

    response = admin_client.post(
        reverse("core:picklist_option_edit", args=[types.pk, wechat.pk]),
        {"label_zh": "微信", "label_en": "WeChat", "icon": "javascript:x", "color": "red;"},
    )
    assert set(response.context["form"].errors) == {"icon", "color"}
    wechat.refresh_from_db()
    assert wechat.icon == "bi-wechat"
