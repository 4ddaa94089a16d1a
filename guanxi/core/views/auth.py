"""Sign in, sign out and password change: Django's views with our templates and forms."""

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from guanxi.core.forms.auth import LoginForm, StyledPasswordChangeForm


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule); redirects to LOGOUT_REDIRECT_URL."""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("core:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


login_view = LoginView.as_view()
logout_view = LogoutView.as_view()
password_change_view = PasswordChangeView.as_view()
password_change_done_view = PasswordChangeDoneView.as_view()
