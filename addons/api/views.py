"""Marketplace v1: AvailableAddOns and InstalledAddOns with their Extensions. Thin views."""

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from addons import selectors, services
from addons.api import serializers
from marketplace.api import params
from marketplace.api.openapi import (
    AVAILABLE,
    AVAILABLE_EXT,
    DELETED,
    INSTALLED,
    INSTALLED_EXT,
    PAGING,
    V1,
    form,
    json_object_param,
    operation,
    path_sid,
    resource,
    sid_schema,
    string,
    v1_page,
)
from marketplace.api.pagination import v1_list
from marketplace.api.views import AccountAPIView


class AvailableAddOnList(AccountAPIView):
    @operation(
        "ListAvailableAddOn",
        "The add-ons this account may install.",
        V1,
        {200: ("A page of available add-ons.", v1_page("available_add_ons", AVAILABLE))},
        parameters=PAGING,
        errors=(400,),
    )
    def get(self, request):
        return Response(
            v1_list(
                request,
                selectors.available_add_ons(self.account),
                key="available_add_ons",
                path=reverse("available_add_on_list"),
                render=serializers.available_add_on,
            )
        )


class AvailableAddOnDetail(AccountAPIView):
    @operation(
        "FetchAvailableAddOn",
        "One available add-on.",
        V1,
        {200: resource("The add-on.", AVAILABLE)},
        parameters=(path_sid("sid", "XB", "AvailableAddOn"),),
        errors=(404,),
    )
    def get(self, request, sid):
        listing = selectors.available_listing(self.account, self.path_sid(sid, "XB"))
        return Response(serializers.available_add_on(listing))


class AvailableAddOnExtensionList(AccountAPIView):
    @operation(
        "ListAvailableAddOnExtension",
        "The extensions (integration points) of an available add-on.",
        V1,
        {200: ("A page of extensions.", v1_page("extensions", AVAILABLE_EXT))},
        parameters=(path_sid("listing_sid", "XB", "AvailableAddOn"), *PAGING),
        errors=(400, 404),
    )
    def get(self, request, listing_sid):
        listing = selectors.available_listing(self.account, self.path_sid(listing_sid, "XB"))
        return Response(
            v1_list(
                request,
                selectors.available_extensions(listing),
                key="extensions",
                path=reverse("available_add_on_extension_list", kwargs={"listing_sid": listing.sid}),
                render=lambda extension: serializers.available_add_on_extension(extension, listing),
            )
        )


class AvailableAddOnExtensionDetail(AccountAPIView):
    @operation(
        "FetchAvailableAddOnExtension",
        "One extension of an available add-on.",
        V1,
        {200: resource("The extension.", AVAILABLE_EXT)},
        parameters=(path_sid("listing_sid", "XB", "AvailableAddOn"), path_sid("sid", "XF", "Extension")),
        errors=(404,),
    )
    def get(self, request, listing_sid, sid):
        listing = selectors.available_listing(self.account, self.path_sid(listing_sid, "XB"))
        extension = selectors.available_extension(listing, self.path_sid(sid, "XF"))
        return Response(serializers.available_add_on_extension(extension, listing))


class InstalledAddOnList(AccountAPIView):
    @operation(
        "ListInstalledAddOn",
        "The add-ons installed on this account.",
        V1,
        {200: ("A page of installed add-ons.", v1_page("installed_add_ons", INSTALLED))},
        parameters=PAGING,
        errors=(400,),
    )
    def get(self, request):
        return Response(
            v1_list(
                request,
                selectors.installations(self.account),
                key="installed_add_ons",
                path=reverse("installed_add_on_list"),
                render=serializers.installed_add_on,
            )
        )

    @operation(
        "CreateInstalledAddOn",
        "Install an add-on.",
        V1,
        {201: resource("Installed.", INSTALLED)},
        body=form(
            {
                "AvailableAddOnSid": {**sid_schema("XB"), "description": "The add-on to install."},
                "AcceptTermsOfService": {"type": "boolean", "description": "Must be true."},
                "Configuration": json_object_param("The configuration, valid against its configuration_schema."),
                "UniqueName": string("A name unique within the account; the add-on's by default."),
            },
            required=("AvailableAddOnSid", "AcceptTermsOfService"),
        ),
        body_required=True,
        errors=(400, 404, 409, 415),
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

    @operation(
        "FetchInstalledAddOn",
        "One installed add-on.",
        V1,
        {200: resource("The installation.", INSTALLED)},
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),),
        errors=(404,),
    )
    def get(self, request, sid):
        return Response(serializers.installed_add_on(self.installation(sid)))

    @operation(
        "UpdateInstalledAddOn",
        "Change an installation's configuration or unique name.",
        V1,
        {200: resource("Updated.", INSTALLED)},
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),),
        body=form(
            {
                "Configuration": json_object_param("The new configuration, valid against its configuration_schema."),
                "UniqueName": string("A new name, unique within the account."),
            }
        ),
        errors=(400, 404, 409, 415),
    )
    def post(self, request, sid):
        installation = self.installation(sid)
        installation = services.update_installation(
            installation=installation,
            configuration=params.json_object(request.data, "Configuration"),
            unique_name=params.string(request.data, "UniqueName"),
        )
        return Response(serializers.installed_add_on(installation))

    @operation(
        "DeleteInstalledAddOn",
        "Uninstall an add-on.",
        V1,
        DELETED,
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),),
        errors=(404,),
    )
    def delete(self, request, sid):
        services.uninstall_add_on(installation=self.installation(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstalledAddOnExtensionList(AccountAPIView):
    @operation(
        "ListInstalledAddOnExtension",
        "The extensions of an installation, each on or off.",
        V1,
        {200: ("A page of extensions.", v1_page("extensions", INSTALLED_EXT))},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), *PAGING),
        errors=(400, 404),
    )
    def get(self, request, installation_sid):
        installation = selectors.installation(self.account, self.path_sid(installation_sid, "XE"))
        return Response(
            v1_list(
                request,
                selectors.installed_extensions(installation),
                key="extensions",
                path=reverse("installed_add_on_extension_list", kwargs={"installation_sid": installation.sid}),
                render=lambda row: serializers.installed_add_on_extension(row, installation),
            )
        )


class InstalledAddOnExtensionDetail(AccountAPIView):
    def installed_extension(self, installation_sid, sid):
        installation = selectors.installation(self.account, self.path_sid(installation_sid, "XE"))
        return installation, selectors.installed_extension(installation, self.path_sid(sid, "XF"))

    @operation(
        "FetchInstalledAddOnExtension",
        "One extension of an installation.",
        V1,
        {200: resource("The extension.", INSTALLED_EXT)},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), path_sid("sid", "XF", "Extension")),
        errors=(404,),
    )
    def get(self, request, installation_sid, sid):
        installation, row = self.installed_extension(installation_sid, sid)
        return Response(serializers.installed_add_on_extension(row, installation))

    @operation(
        "UpdateInstalledAddOnExtension",
        "Turn an extension of an installation on or off.",
        V1,
        {200: resource("Updated.", INSTALLED_EXT)},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), path_sid("sid", "XF", "Extension")),
        body=form(
            {"Enabled": {"type": "boolean", "description": "Whether the extension runs."}}, required=("Enabled",)
        ),
        body_required=True,
        errors=(400, 404, 415),
    )
    def post(self, request, installation_sid, sid):
        installation, row = self.installed_extension(installation_sid, sid)
        row = services.set_extension_enabled(
            installed_extension=row, enabled=params.boolean(request.data, "Enabled", required=True)
        )
        return Response(serializers.installed_add_on_extension(row, installation))
