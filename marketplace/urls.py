from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from accounts.api import views as account_views
from accounts.api.referrals import ReferralConversion
from addons.api import views_2010 as assigned
from billing.api import views as billing
from marketplace import health
from recordings import views as recording_views
from recordings.api import views as recordings

ACCOUNT = "2010-04-01/Accounts/<str:account_sid>"
NUMBER = f"{ACCOUNT}/IncomingPhoneNumbers/<str:resource_sid>"
RECORDING = f"{ACCOUNT}/Recordings/<str:reference_sid>"
RESULT = f"{RECORDING}/AddOnResults/<str:result_sid>"

api_2010 = [
    path(
        f"{ACCOUNT}/IncomingPhoneNumbers.json",
        account_views.IncomingPhoneNumberList.as_view(),
        name="incoming_phone_number_list",
    ),
    path(
        f"{ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json",
        account_views.IncomingPhoneNumberDetail.as_view(),
        name="incoming_phone_number_detail",
    ),
    path(
        f"{NUMBER}/AssignedAddOns.json",
        assigned.AssignedAddOnList.as_view(),
        name="assigned_add_on_list",
    ),
    path(
        f"{NUMBER}/AssignedAddOns/<str:sid>.json",
        assigned.AssignedAddOnDetail.as_view(),
        name="assigned_add_on_detail",
    ),
    path(
        f"{NUMBER}/AssignedAddOns/<str:assigned_sid>/Extensions.json",
        assigned.AssignedAddOnExtensionList.as_view(),
        name="assigned_add_on_extension_list",
    ),
    path(
        f"{NUMBER}/AssignedAddOns/<str:assigned_sid>/Extensions/<str:sid>.json",
        assigned.AssignedAddOnExtensionDetail.as_view(),
        name="assigned_add_on_extension_detail",
    ),
    path(
        f"{ACCOUNT}/Usage/Records.json",
        billing.UsageRecordList.as_view(),
        name="usage_record_list",
    ),
    path(
        f"{ACCOUNT}/Recordings.json",
        recordings.RecordingList.as_view(),
        name="recording_list",
    ),
    path(
        f"{ACCOUNT}/Recordings/<str:sid>.json",
        recordings.RecordingDetail.as_view(),
        name="recording_detail",
    ),
    path(
        f"{ACCOUNT}/Recordings/<str:sid>.wav",
        recordings.RecordingMedia.as_view(),
        name="recording_media",
    ),
    path(
        f"{RECORDING}/AddOnResults.json",
        recordings.AddOnResultList.as_view(),
        name="add_on_result_list",
    ),
    path(
        f"{RECORDING}/AddOnResults/<str:sid>.json",
        recordings.AddOnResultDetail.as_view(),
        name="add_on_result_detail",
    ),
    path(f"{RESULT}/Payloads.json", recordings.PayloadList.as_view(), name="payload_list"),
    path(
        f"{RESULT}/Payloads/<str:sid>.json",
        recordings.PayloadDetail.as_view(),
        name="payload_detail",
    ),
    path(
        f"{RESULT}/Payloads/<str:sid>/Data.json",
        recordings.PayloadData.as_view(),
        name="payload_data",
    ),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The OpenAPI description of everything below (declared beside each view) and its Swagger UI.
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    # The split view serves its start-up script from a URL, not inline: the CSP allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="openapi-schema"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
    path(
        "sandbox/v1/Recordings",
        recordings.RecordingUpload.as_view(),
        name="recording_upload",
    ),
    path(
        "callbacks/v1/AddOnResults/<str:result_sid>/<str:token>",
        recording_views.add_on_result_callback,
        name="add_on_result_callback",
    ),
    path(
        "downloads/v1/Payloads/<str:token>",
        recording_views.payload_download,
        name="payload_download",
    ),
    path("", RedirectView.as_view(pattern_name="console:dashboard", permanent=False)),
    # The root URLconf is where every app meets: the one module of marketplace/ that imports
    # apps (pyproject.toml's import-linter contracts say so).
    path("", include("addons.api.urls")),
    path(
        "v1/InstalledAddOns/<str:installation_sid>/Usage",
        billing.InstalledAddOnUsage.as_view(),
        name="installed_add_on_usage",
    ),
    path("v1/ReferralConversion", ReferralConversion.as_view(), name="referral_conversion"),
    path("", include("invocation.api.urls")),
    *api_2010,
]

handler404 = "marketplace.api.errors.not_found"
