from django.urls import path

from invocation.api import lookups, sandbox, trial

urlpatterns = [
    path("v1/PhoneNumbers/<str:phone_number>", lookups.PhoneNumberLookup.as_view(), name="phone_number_lookup"),
    path("sandbox/v1/Messages", sandbox.InboundMessage.as_view(), name="inbound_message"),
    path("sandbox/v1/Calls", sandbox.InboundCall.as_view(), name="inbound_call"),
    path(
        "sandbox/v1/Listings/<str:listing_sid>/TestInvocations",
        trial.TestInvocation.as_view(),
        name="test_invocation",
    ),
]
