"""2010 API: add-ons assigned to an IncomingPhoneNumber, and their Extensions."""

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from accounts import selectors as account_selectors
from addons import selectors, services
from addons.api import serializers
from marketplace.api import params
from marketplace.api.openapi import (
    API_2010,
    ASSIGNED,
    ASSIGNED_EXT,
    DELETED,
    NUMBER_PATH,
    PAGING,
    form,
    operation,
    path_sid,
    ref,
    resource,
    sid_schema,
    v2010_page,
)
from marketplace.api.pagination import v2010_list
from marketplace.api.views import Account2010APIView


class AssignedAddOnView(Account2010APIView):
    def phone_number(self, resource_sid):
        return account_selectors.phone_number(self.account, self.path_sid(resource_sid, "PN"))

    def assignment(self, resource_sid, sid):
        return selectors.assignment(self.phone_number(resource_sid), self.path_sid(sid, "XE"))


class AssignedAddOnList(AssignedAddOnView):
    @operation(
        "ListIncomingPhoneNumberAssignedAddOn",
        "The add-ons assigned to a number.",
        API_2010,
        {200: ("A page of assigned add-ons.", v2010_page("assigned_add_ons", ref(ASSIGNED)))},
        parameters=(*NUMBER_PATH, *PAGING),
        errors=(400, 404),
    )
    def get(self, request, account_sid, resource_sid):
        number = self.phone_number(resource_sid)
        return Response(
            v2010_list(
                request,
                selectors.assignments(number),
                key="assigned_add_ons",
                path=reverse(
                    "assigned_add_on_list", kwargs={"account_sid": self.account.sid, "resource_sid": number.sid}
                ),
                render=serializers.assigned_add_on,
            )
        )

    @operation(
        "CreateIncomingPhoneNumberAssignedAddOn",
        "Assign an installed add-on to a number.",
        API_2010,
        {201: resource("Assigned.", ASSIGNED)},
        parameters=NUMBER_PATH,
        body=form(
            {"InstalledAddOnSid": {**sid_schema("XE"), "description": "The installation to assign."}},
            required=("InstalledAddOnSid",),
        ),
        body_required=True,
        errors=(400, 404, 409, 415),
    )
    def post(self, request, account_sid, resource_sid):
        number = self.phone_number(resource_sid)
        installation = selectors.installation(
            self.account,
            params.sid(request.data, "InstalledAddOnSid", "XE", required=True),
            param="InstalledAddOnSid",
        )
        assignment = services.assign_add_on(phone_number=number, installation=installation)
        return Response(serializers.assigned_add_on(assignment), status=status.HTTP_201_CREATED)


class AssignedAddOnDetail(AssignedAddOnView):
    @operation(
        "FetchIncomingPhoneNumberAssignedAddOn",
        "One add-on assigned to a number.",
        API_2010,
        {200: resource("The assignment.", ASSIGNED)},
        parameters=(*NUMBER_PATH, path_sid("sid", "XE", "assigned InstalledAddOn")),
        errors=(404,),
    )
    def get(self, request, account_sid, resource_sid, sid):
        return Response(serializers.assigned_add_on(self.assignment(resource_sid, sid)))

    @operation(
        "DeleteIncomingPhoneNumberAssignedAddOn",
        "Unassign an add-on from a number.",
        API_2010,
        DELETED,
        parameters=(*NUMBER_PATH, path_sid("sid", "XE", "assigned InstalledAddOn")),
        errors=(404,),
    )
    def delete(self, request, account_sid, resource_sid, sid):
        services.unassign_add_on(assignment=self.assignment(resource_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssignedAddOnExtensionList(AssignedAddOnView):
    @operation(
        "ListIncomingPhoneNumberAssignedAddOnExtension",
        "The extensions of an assigned add-on.",
        API_2010,
        {200: ("A page of extensions.", v2010_page("extensions", ref(ASSIGNED_EXT)))},
        parameters=(*NUMBER_PATH, path_sid("assigned_sid", "XE", "assigned InstalledAddOn"), *PAGING),
        errors=(400, 404),
    )
    def get(self, request, account_sid, resource_sid, assigned_sid):
        assignment = self.assignment(resource_sid, assigned_sid)
        return Response(
            v2010_list(
                request,
                selectors.installed_extensions(assignment.installation),
                key="extensions",
                path=reverse("assigned_add_on_extension_list", kwargs=serializers.assigned_add_on_kwargs(assignment)),
                render=lambda row: serializers.assigned_add_on_extension(row, assignment),
            )
        )


class AssignedAddOnExtensionDetail(AssignedAddOnView):
    @operation(
        "FetchIncomingPhoneNumberAssignedAddOnExtension",
        "One extension of an assigned add-on.",
        API_2010,
        {200: resource("The extension.", ASSIGNED_EXT)},
        parameters=(
            *NUMBER_PATH,
            path_sid("assigned_sid", "XE", "assigned InstalledAddOn"),
            path_sid("sid", "XF", "Extension"),
        ),
        errors=(404,),
    )
    def get(self, request, account_sid, resource_sid, assigned_sid, sid):
        assignment = self.assignment(resource_sid, assigned_sid)
        row = selectors.installed_extension(assignment.installation, self.path_sid(sid, "XF"))
        return Response(serializers.assigned_add_on_extension(row, assignment))
