"""The debugger: GET /v1/Alerts[/{NO}], shaped like Twilio's Monitor Alerts."""

from django.urls import reverse
from rest_framework.response import Response

from addons import selectors
from marketplace.api.formats import absolute_url, iso8601
from marketplace.api.openapi import (
    PAGING,
    operation,
    path_sid,
    query,
    resource,
    v1_page,
)
from marketplace.api.pagination import v1_list
from marketplace.api.views import AccountAPIView
from marketplace.errors import more_info


def alert(notification):
    return {
        "account_sid": notification.account.sid,
        "alert_text": notification.message,
        "api_version": "2010-04-01",
        "date_created": iso8601(notification.date_created),
        "date_generated": iso8601(notification.date_created),
        "date_updated": iso8601(notification.date_created),
        "error_code": str(notification.error_code),
        "log_level": notification.log_level,
        "more_info": more_info(notification.error_code),
        "request_method": notification.request_method or None,
        "request_url": notification.request_url or None,
        "resource_sid": notification.resource_sid or None,
        "sid": notification.sid,
        "url": absolute_url(reverse("alert_detail", kwargs={"sid": notification.sid})),
    }


class AlertList(AccountAPIView):
    @operation(
        "ListAlert",
        "The debugger: failed or refused invocations, newest last.",
        "Monitor v1",
        {200: ("A page of alerts.", v1_page("alerts", "monitor.v1.alert"))},
        parameters=(query("LogLevel", {"type": "string", "enum": ["warning", "error"]}, "Only this level."), *PAGING),
        errors=(400,),
    )
    def get(self, request):
        alerts = selectors.alerts(self.account, level=request.query_params.get("LogLevel") or None)
        return Response(v1_list(request, alerts, key="alerts", path=reverse("alert_list"), render=alert))


class AlertDetail(AccountAPIView):
    @operation(
        "FetchAlert",
        "One debugger alert.",
        "Monitor v1",
        {200: resource("The alert.", "monitor.v1.alert")},
        parameters=(path_sid("sid", "NO", "Alert"),),
        errors=(404,),
    )
    def get(self, request, sid):
        return Response(alert(selectors.alert(self.account, self.path_sid(sid, "NO"))))
