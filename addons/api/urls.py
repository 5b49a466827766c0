from django.urls import path

from addons.api import alerts, listings, views

urlpatterns = [
    path(
        "v1/AvailableAddOns",
        views.AvailableAddOnList.as_view(),
        name="available_add_on_list",
    ),
    path(
        "v1/AvailableAddOns/<str:sid>",
        views.AvailableAddOnDetail.as_view(),
        name="available_add_on_detail",
    ),
    path(
        "v1/AvailableAddOns/<str:listing_sid>/Extensions",
        views.AvailableAddOnExtensionList.as_view(),
        name="available_add_on_extension_list",
    ),
    path(
        "v1/AvailableAddOns/<str:listing_sid>/Extensions/<str:sid>",
        views.AvailableAddOnExtensionDetail.as_view(),
        name="available_add_on_extension_detail",
    ),
    path(
        "v1/InstalledAddOns",
        views.InstalledAddOnList.as_view(),
        name="installed_add_on_list",
    ),
    path(
        "v1/InstalledAddOns/<str:sid>",
        views.InstalledAddOnDetail.as_view(),
        name="installed_add_on_detail",
    ),
    path(
        "v1/InstalledAddOns/<str:installation_sid>/Extensions",
        views.InstalledAddOnExtensionList.as_view(),
        name="installed_add_on_extension_list",
    ),
    path(
        "v1/InstalledAddOns/<str:installation_sid>/Extensions/<str:sid>",
        views.InstalledAddOnExtensionDetail.as_view(),
        name="installed_add_on_extension_detail",
    ),
    path("v1/Listings", listings.ListingList.as_view(), name="listing_list"),
    path("v1/Listing/<str:sid>", listings.ListingDetail.as_view(), name="listing_detail"),
    path("v1/Alerts", alerts.AlertList.as_view(), name="alert_list"),
    path("v1/Alerts/<str:sid>", alerts.AlertDetail.as_view(), name="alert_detail"),
]
