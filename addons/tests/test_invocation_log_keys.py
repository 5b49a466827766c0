"""Every invocation's JSON log line carries each SID under its own key."""

import json
import logging

from accounts import services as account_services
from addons.models import Invocation
from addons.tests.factories import install
from marketplace.logs import MarketplaceJsonFormatter, RequestSidDefault


def test_invocation_log_names_the_account_and_the_installation(api, customer, installed_at, httpserver, caplog):
    httpserver.expect_request("/insight").respond_with_json({"name": "Ada"})
    installed_at(httpserver.url_for("/insight"), unique_name="caller")
    with caplog.at_level(logging.INFO, logger="invocation.engine"):
        reply = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": "caller"})
    assert reply.status_code == 200
    invocation = Invocation.objects.get()

    [record] = [r for r in caplog.records if r.name == "invocation.engine"]
    RequestSidDefault().filter(record)
    line = json.loads(MarketplaceJsonFormatter().format(record))
    assert line["account_sid"] == customer.sid
    assert line["installation_sid"] == invocation.installation.sid and line["installation_sid"].startswith("XE")
    assert line["request_sid"] == invocation.sid
    assert line["level"] == "INFO" and "caller" in line["message"]


def test_a_refused_invocation_logs_the_same_keys(api_for, make_listing, caplog):
    # An account without credit: its priced add-on is refused before any call (61032).
    broke = account_services.create_account(friendly_name="No Credit")
    api = api_for(broke)
    listing = make_listing(unique_name="caller_listing")
    installed = install(api, listing)
    with caplog.at_level(logging.INFO, logger="invocation.engine"):
        reply = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": installed["unique_name"]})
    assert reply.json()["add_ons"]["results"][installed["unique_name"]]["code"] == 61032
    [record] = [r for r in caplog.records if r.name == "invocation.engine"]
    line = json.loads(MarketplaceJsonFormatter().format(record))
    assert (line["account_sid"], line["installation_sid"], line["level"]) == (broke.sid, installed["sid"], "WARNING")
