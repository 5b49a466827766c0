from django.contrib.auth import views as auth_views
from django.urls import path

from console import customer_views as customer
from console import views

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("account/", views.switch_account, name="switch_account"),
    path("catalog/", customer.catalog, name="catalog"),
    path("catalog/<str:listing_sid>/", customer.listing_page, name="listing"),
    path("catalog/<str:listing_sid>/install/", customer.install, name="install"),
    path("installations/", customer.installations, name="installations"),
    path("installations/<str:installation_sid>/", customer.installation, name="installation"),
    path(
        "installations/<str:installation_sid>/extensions/<str:extension_sid>/",
        customer.switch_extension,
        name="switch_extension",
    ),
    path("installations/<str:installation_sid>/assign/", customer.assign, name="assign"),
    path("installations/<str:installation_sid>/unassign/<str:phone_number_sid>/", customer.unassign, name="unassign"),
    path("installations/<str:installation_sid>/uninstall/", customer.uninstall, name="uninstall"),
    path("numbers/", customer.phone_numbers, name="phone_numbers"),
    path("numbers/<str:phone_number_sid>/delete/", customer.delete_phone_number, name="delete_phone_number"),
    path("debugger/", views.debugger, name="debugger"),
    path("recordings/", views.recordings, name="recordings"),
    path("recordings/<str:recording_sid>/", views.recording, name="recording"),
    path("usage/", views.usage, name="usage"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<str:period>.csv", views.invoice_csv, name="invoice_csv"),
    path("publisher/listings/", views.publisher_listings, name="publisher_listings"),
    path("publisher/statements/", views.statements, name="statements"),
    path("publisher/statements/<str:period>.csv", views.statement_csv, name="statement_csv"),
    path("publisher/listings/<str:listing_sid>/", views.publisher_listing, name="publisher_listing"),
    path("publisher/listings/<str:listing_sid>/test/", views.test_console, name="test_console"),
    path("publisher/listings/<str:listing_sid>/sla/", views.sla_page, name="sla"),
]
