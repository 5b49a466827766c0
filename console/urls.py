from django.contrib.auth import views as auth_views
from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("account/", views.switch_account, name="switch_account"),
    path("debugger/", views.debugger, name="debugger"),
    path("recordings/", views.recordings, name="recordings"),
    path("recordings/<str:recording_sid>/", views.recording, name="recording"),
    path("usage/", views.usage, name="usage"),
    path("publisher/listings/", views.publisher_listings, name="publisher_listings"),
    path("publisher/statements/", views.statements, name="statements"),
    path("publisher/statements/<str:period>.csv", views.statement_csv, name="statement_csv"),
    path("publisher/listings/<str:listing_sid>/test/", views.test_console, name="test_console"),
]
