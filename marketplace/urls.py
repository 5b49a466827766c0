from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.api import views as account_views
from addons.api import views_2010 as assigned

ACCOUNT = "2010-04-01/Accounts/<str:account_sid>"
NUMBER = f"{ACCOUNT}/IncomingPhoneNumbers/<str:resource_sid>"

api_2010 = [
    path(f"{ACCOUNT}/IncomingPhoneNumbers.json", account_views.IncomingPhoneNumberList.as_view()),
    path(f"{ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json", account_views.IncomingPhoneNumberDetail.as_view()),
    path(f"{NUMBER}/AssignedAddOns.json", assigned.AssignedAddOnList.as_view()),
    path(f"{NUMBER}/AssignedAddOns/<str:sid>.json", assigned.AssignedAddOnDetail.as_view()),
    path(f"{NUMBER}/AssignedAddOns/<str:assigned_sid>/Extensions.json", assigned.AssignedAddOnExtensionList.as_view()),
    path(
        f"{NUMBER}/AssignedAddOns/<str:assigned_sid>/Extensions/<str:sid>.json",
        assigned.AssignedAddOnExtensionDetail.as_view(),
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
    path("", RedirectView.as_view(pattern_name="console:dashboard", permanent=False)),
    path("", include("addons.api.urls")),
    *api_2010,
]

handler404 = "marketplace.api.errors.not_found"
