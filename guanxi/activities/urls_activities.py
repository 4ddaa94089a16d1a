"""URLs of the activity and follow-up screens (mounted under /activities/)."""

from django.urls import path

from guanxi.activities import views
from guanxi.core.views.registry import model_urls

VIEW_OVERRIDES = {
    "activity_create": views.ActivityCreateView,
    "activity_validate": views.ActivityValidateView,
    "activity_detail": views.ActivityDetailView,
    "activity_edit": views.ActivityUpdateView,
    "activity_validate_edit": views.ActivityValidateView,
    "followup_create": views.FollowUpCreateView,
    "followup_validate": views.FollowUpValidateView,
    "followup_detail": views.FollowUpDetailView,
    "followup_edit": views.FollowUpUpdateView,
    "followup_validate_edit": views.FollowUpValidateView,
}


def _generic(registration) -> list:
    patterns = []
    for pattern in model_urls(registration):
        view_class = VIEW_OVERRIDES.get(pattern.name)
        if view_class is not None:
            pattern = path(
                str(pattern.pattern),
                view_class.as_view(registration=registration),
                name=pattern.name,
            )
        patterns.append(pattern)
    return patterns


urlpatterns = [
    path("", views.MyActivitiesView.as_view(), name="index"),
    path("items/<int:pk>/complete/", views.CompleteView.as_view(), name="activity_complete"),
    path("items/<int:pk>/reschedule/", views.RescheduleView.as_view(), name="activity_reschedule"),
    path("items/<int:pk>/reassign/", views.ReassignView.as_view(), name="activity_reassign"),
    path("items/<int:pk>/cancel/", views.CancelView.as_view(), name="activity_cancel"),
    path("items/<int:pk>/reopen/", views.ReopenView.as_view(), name="activity_reopen"),
    path("items/<int:pk>/check-in/", views.CheckInView.as_view(), name="activity_check_in"),
    path(
        "items/<int:pk>/appointment-outcome/",
        views.AppointmentOutcomeView.as_view(),
        name="activity_outcome",
    ),
    path(
        "follow-ups/quick/<str:label>/<int:pk>/",
        views.QuickFollowUpView.as_view(),
        name="follow_up_quick",
    ),
    *_generic(views.activity_registration),
    *_generic(views.followup_registration),
]
