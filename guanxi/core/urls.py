from django.urls import include, path

from guanxi.core.views import admin, auth, home, lookups, notifications, preferences

app_name = "core"

urlpatterns = [
    path("", home.home, name="home"),
    # Account
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/", auth.password_change_view, name="password_change"),
    path("password/done/", auth.password_change_done_view, name="password_change_done"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("preferences/language/", preferences.set_language, name="set_language"),
    # Notifications
    path("notifications/", notifications.notification_list, name="notification_list"),
    path(
        "notifications/dropdown/",
        notifications.notification_dropdown,
        name="notification_dropdown",
    ),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    # Lookups of the search-as-you-type selects (guanxi.core.forms.widgets.LookupSelect)
    path("lookups/users/", lookups.lookup_users, name="lookup_users"),
    path("lookups/departments/", lookups.lookup_departments, name="lookup_departments"),
    # Global search (guanxi.core.search): core:search at /search/
    path("", include("guanxi.core.search.urls")),
    # Administration
    path("admin/users/", admin.user_list, name="user_list"),
    path("admin/users/new/", admin.user_create_view, name="user_create"),
    path("admin/users/<int:pk>/", admin.user_edit_view, name="user_edit"),
    path("admin/users/<int:pk>/password/", admin.user_password_view, name="user_password"),
    path("admin/departments/", admin.department_list, name="department_list"),
    path("admin/departments/new/", admin.department_create_view, name="department_create"),
    path("admin/departments/<int:pk>/", admin.department_edit_view, name="department_edit"),
    path(
        "admin/departments/<int:pk>/delete/",
        admin.department_delete_view,
        name="department_delete",
    ),
    path("admin/roles/", admin.role_list, name="role_list"),
    path("admin/roles/new/", admin.role_create_view, name="role_create"),
    path("admin/roles/<int:pk>/", admin.role_edit_view, name="role_edit"),
    path("admin/roles/<int:pk>/delete/", admin.role_delete_view, name="role_delete"),
    path("admin/picklists/", admin.picklist_list, name="picklist_list"),
    path("admin/picklists/new/", admin.picklist_create_view, name="picklist_create"),
    path("admin/picklists/<int:pk>/", admin.picklist_detail, name="picklist_detail"),
    path(
        "admin/picklists/<int:pk>/options/new/",
        admin.picklist_option_create_view,
        name="picklist_option_create",
    ),
    path(
        "admin/picklists/<int:pk>/options/<int:option_pk>/",
        admin.picklist_option_edit_view,
        name="picklist_option_edit",
    ),
    path(
        "admin/picklists/<int:pk>/options/<int:option_pk>/move/",
        admin.picklist_option_move_view,
        name="picklist_option_move",
    ),
    path("admin/custom-fields/", admin.customfield_list, name="customfield_list"),
    path("admin/custom-fields/new/", admin.customfield_create_view, name="customfield_create"),
    path("admin/custom-fields/<int:pk>/", admin.customfield_edit_view, name="customfield_edit"),
    path("admin/tags/", admin.tag_list, name="tag_list"),
    path("admin/tags/new/", admin.tag_create_view, name="tag_create"),
    path("admin/tags/<int:pk>/", admin.tag_edit_view, name="tag_edit"),
    path("admin/tags/<int:pk>/delete/", admin.tag_delete_view, name="tag_delete"),
    path("admin/recycle-bin/", admin.recycle_bin_view, name="recycle_bin"),
    path(
        "admin/recycle-bin/<str:label>/<int:pk>/restore/",
        admin.recycle_restore_view,
        name="recycle_restore",
    ),
    path(
        "admin/recycle-bin/<str:label>/<int:pk>/purge/",
        admin.recycle_purge_view,
        name="recycle_purge",
    ),
]
