"""Publisher endpoints of the sandbox: test invocations of one's own listing versions."""

from rest_framework.response import Response

from addons import selectors
from invocation import trial
from marketplace.api import params
from marketplace.api.openapi import (
    E164,
    SANDBOX,
    form,
    json_object_param,
    operation,
    path_sid,
    resource,
    sid_schema,
    string,
)
from marketplace.api.views import PublisherAPIView
from marketplace.errors import InvalidParameter


class TestInvocation(PublisherAPIView):
    @operation(
        "CreateTestInvocation",
        "Call your own listing version with sample input, as a customer's call would.",
        SANDBOX,
        {200: resource("What was sent, what came back, and the verdict.", "sandbox.v1.test_invocation")},
        parameters=(path_sid("listing_sid", "XB", "listing (yours)"),),
        body=form(
            {
                "VersionSid": {**sid_schema("XC"), "description": "The version to call; the latest by default."},
                "IntegrationPoint": string("An extension of the version; its first by default."),
                "PrimaryAddress": {**E164, "description": "The number looked up (a sample by default)."},
                "SecondaryAddress": {**E164, "description": "The other party's number."},
                "Body": string("A message body, up to 1600 characters.", maxLength=1600),
                "Configuration": json_object_param("The configuration to test with."),
                "RuntimeData": json_object_param("Runtime fields to send."),
            }
        ),
        errors=(400, 404, 415),
    )
    def post(self, request, listing_sid):
        listing = selectors.own_listing(self.account, self.path_sid(listing_sid, "XB"))
        data = request.data
        version = listing.latest_version
        if version is None:
            raise InvalidParameter(
                "This listing has no version to test yet: import its manifest first", param="VersionSid"
            )
        if (version_sid := params.sid(data, "VersionSid", "XC")) is not None:
            version = selectors.version(listing, version_sid, param="VersionSid")
        report = trial.run(
            listing=listing,
            version=version,
            integration_point=params.string(data, "IntegrationPoint"),
            inputs={
                "primary_address": params.e164(data, "PrimaryAddress"),
                "secondary_address": params.e164(data, "SecondaryAddress"),
                "body": params.string(data, "Body", max_length=1600),
            },
            configuration=params.json_object(data, "Configuration"),
            runtime=params.json_object(data, "RuntimeData"),
        )
        return Response(report)
