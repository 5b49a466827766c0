"""2010 API: add-ons assigned to an IncomingPhoneNumber, and their Extensions."""

from rest_framework import status
from rest_framework.response import Response

from accounts import selectors as account_selectors
from addons import selectors, services
from addons.api import serializers
from marketplace.api import params
from marketplace.api.pagination import v2010_list
from marketplace.api.views import Account2010APIView


class AssignedAddOnView(Account2010APIView):
    def phone_number(self, resource_sid):
        return account_selectors.phone_number(self.account, self.path_sid(resource_sid, "PN"))

    def assignment(self, resource_sid, sid):
        return selectors.assignment(self.phone_number(resource_sid), self.path_sid(sid, "XE"))


class AssignedAddOnList(AssignedAddOnView):
    def get(self, request, account_sid, resource_sid):
        number = self.phone_number(resource_sid)
        return Response(
            v2010_list(
                request,
                selectors.assignments(number),
                key="assigned_add_ons",
                path=f"/2010-04-01/Accounts/{self.account.sid}/IncomingPhoneNumbers/{number.sid}/AssignedAddOns.json",
                render=serializers.assigned_add_on,
            )
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
    def get(self, request, account_sid, resource_sid, sid):
        return Response(serializers.assigned_add_on(self.assignment(resource_sid, sid)))

    def delete(self, request, account_sid, resource_sid, sid):
        services.unassign_add_on(assignment=self.assignment(resource_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssignedAddOnExtensionList(AssignedAddOnView):
    def get(self, request, account_sid, resource_sid, assigned_sid):
        assignment = self.assignment(resource_sid, assigned_sid)
        return Response(
            v2010_list(
                request,
                selectors.installed_extensions(assignment.installation),
                key="extensions",
                path=serializers.assigned_add_on_path(assignment) + "/Extensions.json",
                render=lambda row: serializers.assigned_add_on_extension(row, assignment),
            )
        )


class AssignedAddOnExtensionDetail(AssignedAddOnView):
    def get(self, request, account_sid, resource_sid, assigned_sid, sid):
        assignment = self.assignment(resource_sid, assigned_sid)
        row = selectors.installed_extension(assignment.installation, self.path_sid(sid, "XF"))
        return Response(serializers.assigned_add_on_extension(row, assignment))
