"""Marketplace v1: AvailableAddOns and InstalledAddOns with their Extensions. Thin views."""

from rest_framework import status
from rest_framework.response import Response

from addons import selectors, services
from addons.api import serializers
from marketplace.api import params
from marketplace.api.pagination import v1_list
from marketplace.api.views import AccountAPIView


class AvailableAddOnList(AccountAPIView):
    def get(self, request):
        return Response(
            v1_list(
                request,
                selectors.available_add_ons(self.account),
                key="available_add_ons",
                path="/v1/AvailableAddOns",
                render=serializers.available_add_on,
            )
        )


class AvailableAddOnDetail(AccountAPIView):
    def get(self, request, sid):
        listing = selectors.available_listing(self.account, self.path_sid(sid, "XB"))
        return Response(serializers.available_add_on(listing))


class AvailableAddOnExtensionList(AccountAPIView):
    def get(self, request, listing_sid):
        listing = selectors.available_listing(self.account, self.path_sid(listing_sid, "XB"))
        return Response(
            v1_list(
                request,
                selectors.available_extensions(listing),
                key="extensions",
                path=f"/v1/AvailableAddOns/{listing.sid}/Extensions",
                render=lambda extension: serializers.available_add_on_extension(extension, listing),
            )
        )


class AvailableAddOnExtensionDetail(AccountAPIView):
    def get(self, request, listing_sid, sid):
        listing = selectors.available_listing(self.account, self.path_sid(listing_sid, "XB"))
        extension = selectors.available_extension(listing, self.path_sid(sid, "XF"))
        return Response(serializers.available_add_on_extension(extension, listing))


class InstalledAddOnList(AccountAPIView):
    def get(self, request):
        return Response(
            v1_list(
                request,
                selectors.installations(self.account),
                key="installed_add_ons",
                path="/v1/InstalledAddOns",
                render=serializers.installed_add_on,
            )
        )

    def post(self, request):
        data = request.data
        installation = services.install_add_on(
            account=self.account,
            available_add_on_sid=params.sid(data, "AvailableAddOnSid", "XB", required=True),
            accept_terms_of_service=params.boolean(data, "AcceptTermsOfService", required=True),
            configuration=params.json_object(data, "Configuration"),
            unique_name=params.string(data, "UniqueName"),
        )
        return Response(serializers.installed_add_on(installation), status=status.HTTP_201_CREATED)


class InstalledAddOnDetail(AccountAPIView):
    def installation(self, sid):
        return selectors.installation(self.account, self.path_sid(sid, "XE"))

    def get(self, request, sid):
        return Response(serializers.installed_add_on(self.installation(sid)))

    def post(self, request, sid):
        installation = self.installation(sid)
        installation = services.update_installation(
            installation=installation,
            configuration=params.json_object(request.data, "Configuration"),
            unique_name=params.string(request.data, "UniqueName"),
        )
        return Response(serializers.installed_add_on(installation))

    def delete(self, request, sid):
        services.uninstall_add_on(installation=self.installation(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstalledAddOnExtensionList(AccountAPIView):
    def get(self, request, installation_sid):
        installation = selectors.installation(self.account, self.path_sid(installation_sid, "XE"))
        return Response(
            v1_list(
                request,
                selectors.installed_extensions(installation),
                key="extensions",
                path=f"/v1/InstalledAddOns/{installation.sid}/Extensions",
                render=lambda row: serializers.installed_add_on_extension(row, installation),
            )
        )


class InstalledAddOnExtensionDetail(AccountAPIView):
    def installed_extension(self, installation_sid, sid):
        installation = selectors.installation(self.account, self.path_sid(installation_sid, "XE"))
        return installation, selectors.installed_extension(installation, self.path_sid(sid, "XF"))

    def get(self, request, installation_sid, sid):
        installation, row = self.installed_extension(installation_sid, sid)
        return Response(serializers.installed_add_on_extension(row, installation))

    def post(self, request, installation_sid, sid):
        installation, row = self.installed_extension(installation_sid, sid)
        row = services.set_extension_enabled(
            installed_extension=row, enabled=params.boolean(request.data, "Enabled", required=True)
        )
        return Response(serializers.installed_add_on_extension(row, installation))
