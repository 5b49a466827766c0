"""Publisher endpoints of the sandbox: test invocations of one's own listing versions."""

from rest_framework.response import Response

from addons import selectors
from invocation import trial
from marketplace.api import params
from marketplace.api.views import PublisherAPIView
from marketplace.errors import InvalidParameter


class TestInvocation(PublisherAPIView):
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
