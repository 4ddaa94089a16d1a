"""URLs of the activities app; each area keeps its own patterns module."""

from guanxi.activities.urls_activities import urlpatterns as activity_patterns
from guanxi.activities.urls_calendar import urlpatterns as calendar_patterns
from guanxi.activities.urls_insights import urlpatterns as insight_patterns
from guanxi.activities.urls_settings import urlpatterns as settings_patterns

app_name = "activities"

urlpatterns = [*calendar_patterns, *insight_patterns, *settings_patterns, *activity_patterns]
