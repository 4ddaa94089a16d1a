"""The calendar, its drag / resize / quick-create endpoints, the iCalendar feed and import."""

from django.urls import path

from guanxi.activities import views_calendar as views

urlpatterns = [
    path("calendar/", views.calendar_page, name="calendar"),
    path(
        "calendar/<int:pk>/reschedule/",
        views.calendar_reschedule,
        name="calendar_reschedule",
    ),
    path("calendar/create/", views.calendar_quick_create, name="calendar_create"),
    path("calendar/import/", views.calendar_import, name="calendar_import"),
    path("calendar/feed/", views.calendar_feed_create, name="calendar_feed_create"),
    path("calendar/feed/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical_feed"),
]
