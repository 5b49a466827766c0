"""Manual usage (POST /v1/InstalledAddOns/{XE}/Usage): pinned pricing, truthful answers,
idempotency tokens, quantities, caps, credits and balances below zero (issue 13)."""

import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
import requests

from addons.models import BillableItem, Notification
from billing import services as billing_services
from billing.models import Balance, BillingEvent, LedgerEntry, UsageReport
from billing.tests.test_billing import lookup
from marketplace.errors import InvalidManifest
from tests.fixtures import cluster
from tests.fixtures.cluster import ROOT

ITEMS = [{"name": "report", "price": "0.50"}, {"name": "page", "price": "0.01"}]


def balance(account):
    return Balance.objects.get(account=account).amount


def written():
    """Everything a report may write: counted to prove a refusal wrote nothing."""
    return (BillingEvent.objects.count(), LedgerEntry.objects.count(), UsageReport.objects.count())


@pytest.fixture
def manual(api, make_listing):
    listing = make_listing(unique_name="reports", pricing={"model": "manual"}, billable_items=ITEMS)
    reply = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'},
    )
    assert reply.status_code == 201, reply.content
    items = {item.name: item.sid for item in listing.billable_items.all()}
    return listing, reply.json()["sid"], items


@pytest.fixture
def report(api_for, publisher):
    client = api_for(publisher)

    def send(installation, body, token=None, raw=None):
        headers = {"HTTP_I_TWILIO_IDEMPOTENCY_TOKEN": token} if token is not None else {}
        response = client.client.post(
            f"/v1/InstalledAddOns/{installation}/Usage",
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            **client.headers,
            **headers,
        )
        return response.status_code, response.json()

    return send


def one(sid, quantity, **extra):
    return {"billable_items": [{"sid": sid, "quantity": quantity, **extra}]}


class TestPinnedVersion:
    def test_a_later_manual_version_cannot_bill_an_installation_pinned_to_per_use(
        self, api, make_listing, report, customer
    ):
        # Finding 1: installed at v1 (per_use 0.01); v2 is manual with a 1000.00 item.
        v1 = make_listing(unique_name="reprice", pricing={"model": "per_use", "price": "0.01"})
        installed = api.post(
            "/v1/InstalledAddOns",
            {"AvailableAddOnSid": v1.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'},
        ).json()["sid"]
        listing = make_listing(
            unique_name="reprice", pricing={"model": "manual"}, billable_items=[{"name": "gold", "price": "1000.00"}]
        )
        gold = listing.billable_items.get().sid
        before = balance(customer)
        status, body = report(installed, one(gold, 999))
        assert status == 403 and "manual usage" in body["message"]
        assert written() == (0, 1, 0) and balance(customer) == before  # only the funding credit

    def test_items_and_prices_are_the_pinned_versions(self, manual, make_listing, report, customer):
        _, installation, items = manual
        # v2 raises the price of "report" and adds "premium": neither reaches the installation.
        make_listing(
            unique_name="reports",
            pricing={"model": "manual"},
            billable_items=[{"name": "report", "price": "5.00"}, {"name": "premium", "price": "1000.00"}],
        )
        premium = BillableItem.objects.get(name="premium").sid
        status, body = report(
            installation, {"billable_items": [{"sid": items["report"], "quantity": 2}, {"sid": premium, "quantity": 1}]}
        )
        assert status == 202
        assert body == {
            "total_submitted": 2,
            "billable_items": [
                {"sid": items["report"], "quantity": 2, "submitted": True},
                {"sid": premium, "quantity": 1, "submitted": False},
            ],
        }
        event = BillingEvent.objects.get()
        assert (event.unit_price, event.amount) == (Decimal("0.5"), Decimal("1"))
        assert balance(customer) == Decimal("99")


class TestTruthfulAnswers:
    def test_a_repeated_sid_is_a_400_naming_it(self, manual, report, publisher):
        _, installation, items = manual
        body = {"billable_items": [{"sid": items["page"], "quantity": 1}, {"sid": items["page"], "quantity": 1}]}
        status, reply = report(installation, body)
        assert status == 400 and items["page"] in reply["message"] and "billable_items[1].sid" in reply["message"]
        assert written() == (0, 1, 0)

    def test_a_replay_answers_exactly_what_the_first_did(self, manual, report, customer):
        _, installation, items = manual
        body = {"billable_items": [{"sid": items["page"], "quantity": 12.355}, {"sid": "BI" + "0" * 32, "quantity": 1}]}
        first = report(installation, body, token="t-1")
        assert first[0] == 202 and first[1]["total_submitted"] == 12.355
        after = balance(customer)
        assert report(installation, body, token="t-1") == first
        assert BillingEvent.objects.count() == 1 and balance(customer) == after

    def test_the_same_token_with_another_body_is_a_409_and_bills_nothing(self, manual, report, customer):
        _, installation, items = manual
        assert report(installation, one(items["report"], 1), token="t-2")[0] == 202
        after = balance(customer)
        status, reply = report(installation, one(items["report"], 2), token="t-2")
        assert status == 409 and "idempotency-token" in reply["message"].lower() and "different" in reply["message"]
        assert BillingEvent.objects.count() == 1 and balance(customer) == after

    def test_the_same_quantity_written_another_way_is_the_same_request(self, manual, report):
        _, installation, items = manual
        first = report(
            installation, None, token="t-5", raw=json.dumps({"billable_items": [{"sid": items["page"], "quantity": 2}]})
        )
        again = report(
            installation,
            None,
            token="t-5",
            raw=json.dumps({"billable_items": [{"sid": items["page"], "quantity": 2.0}]}),
        )
        assert first[0] == 202 and again == first and BillingEvent.objects.count() == 1

    def test_the_same_token_on_another_installation_is_a_409(self, manual, report, api):
        listing, installation, items = manual
        second = api.post(
            "/v1/InstalledAddOns",
            {
                "AvailableAddOnSid": listing.sid,
                "AcceptTermsOfService": "true",
                "Configuration": '{"language": "en"}',
                "UniqueName": "second",
            },
        ).json()["sid"]
        assert report(installation, one(items["report"], 1), token="t-3")[0] == 202
        assert report(second, one(items["report"], 1), token="t-3")[0] == 409

    def test_a_token_over_the_documented_length_is_a_400_never_cut(self, manual, report):
        _, installation, items = manual
        assert report(installation, one(items["page"], 1), token="x" * 100)[0] == 202
        status, reply = report(installation, one(items["page"], 2), token="x" * 100 + "y")
        assert status == 400 and "I-Twilio-Idempotency-Token" in reply["message"] and "100" in reply["message"]
        assert BillingEvent.objects.count() == 1

    def test_a_refused_report_keeps_no_answer_so_its_token_can_be_retried(self, manual, report):
        _, installation, items = manual
        assert report(installation, one(items["page"], "abc"), token="t-4")[0] == 400
        assert report(installation, one(items["page"], 1), token="t-4")[0] == 202


class TestQuantities:
    @pytest.mark.parametrize(
        "raw_quantity",
        ["1e-7", "0.0000001", "1e12", '"abc"', "NaN", "Infinity", "-Infinity", "true", '"' + "9" * 5000 + '"',
         "9" * 5000, "0.1234567", "[1]", '{"q": 1}', '"1e3"', '" 1"', "null", '""', "0", "-0.0"],
    )  # fmt: skip  # a table of quantities, several per row
    def test_anything_but_a_decimal_with_six_places_within_the_cap_is_a_400_naming_it(
        self, manual, report, publisher, raw_quantity
    ):
        _, installation, items = manual
        raw = '{"billable_items": [{"sid": "%s", "quantity": 1}, {"sid": "%s", "quantity": %s}]}' % (  # noqa: UP031 (JSON text: an f-string would double every brace)
            items["report"],
            items["page"],
            raw_quantity,
        )
        status, reply = report(installation, None, raw=raw)
        assert status == 400, reply
        assert "billable_items[1].quantity" in reply["message"]
        assert written() == (0, 1, 0)

    @pytest.mark.parametrize(
        "quantity, amount", [("0.000001", "0.000000"), ("12.345678", "0.123457"), (100000, "1000")]
    )
    def test_six_places_and_the_cap_itself_are_taken(self, manual, report, quantity, amount):
        _, installation, items = manual
        status, body = report(installation, one(items["page"], quantity))
        assert status == 202 and body["billable_items"][0]["submitted"] is True
        assert BillingEvent.objects.get().amount == Decimal(amount)


class TestCaps:
    def test_over_the_per_report_cap_is_a_400_naming_the_item(self, manual, report, settings):
        settings.USAGE_MAX_QUANTITY_PER_REPORT = "500"
        _, installation, items = manual
        status, reply = report(installation, one(items["report"], 501))
        assert status == 400 and items["report"] in reply["message"] and "report" in reply["message"]
        assert "500" in reply["message"] and written() == (0, 1, 0)
        assert report(installation, one(items["report"], 500))[0] == 202

    def test_over_the_daily_cap_is_a_400_naming_the_item(self, manual, report, settings, customer):
        settings.USAGE_MAX_QUANTITY_PER_DAY = "10"
        _, installation, items = manual
        assert report(installation, one(items["report"], 6))[0] == 202
        before = (written(), balance(customer))
        status, reply = report(installation, one(items["report"], 5))
        assert status == 400 and items["report"] in reply["message"] and "a day" in reply["message"]
        assert (written(), balance(customer)) == before
        assert report(installation, one(items["report"], 4))[0] == 202

    def test_the_default_cap_refuses_a_runaway_report(self, manual, report):
        # Finding 3: 2,000,000 x 0.50 was accepted.
        _, installation, items = manual
        status, reply = report(installation, one(items["report"], 2_000_000))
        assert status == 400 and items["report"] in reply["message"] and written() == (0, 1, 0)

    def test_a_manifest_may_lower_the_caps(self, api, make_listing, report):
        listing = make_listing(
            unique_name="capped",
            pricing={"model": "manual"},
            billable_items=[{"name": "seat", "price": "1.00", "max_per_report": "3", "max_per_day": "4"}],
        )
        installation = api.post(
            "/v1/InstalledAddOns",
            {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'},
        ).json()["sid"]
        seat = listing.billable_items.get().sid
        assert report(installation, one(seat, 4))[0] == 400
        assert report(installation, one(seat, 3))[0] == 202
        status, reply = report(installation, one(seat, 2))
        assert status == 400 and "4 a day" in reply["message"]

    @pytest.mark.parametrize("cap", ["0", "-1", "1.1234567", 5, "lots"])
    def test_a_manifest_cap_must_be_a_positive_decimal_string(self, make_listing, cap):
        with pytest.raises(InvalidManifest):
            make_listing(
                unique_name="badcap",
                pricing={"model": "manual"},
                billable_items=[{"name": "seat", "price": "1.00", "max_per_report": cap}],
            )


class TestCredits:
    def test_a_credit_within_what_was_billed(self, manual, report, customer):
        _, installation, items = manual
        assert report(installation, one(items["report"], 4))[0] == 202  # 2.00
        status, body = report(installation, one(items["report"], -3, reason="Duplicate reports on 1 Dec"))
        assert status == 202 and body == {
            "total_submitted": -3,
            "billable_items": [{"sid": items["report"], "quantity": -3, "submitted": True}],
        }
        credit = BillingEvent.objects.get(kind="credit")
        assert (credit.quantity, credit.amount, credit.reason) == (
            Decimal("-3"),
            Decimal("-1.5"),
            "Duplicate reports on 1 Dec",
        )
        entry = credit.ledger_entry
        assert (entry.kind, entry.amount) == ("credit", Decimal("1.5")) and "Duplicate reports on 1 Dec" in entry.reason
        assert balance(customer) == Decimal("99.5")

    def test_a_credit_over_what_was_billed_is_a_400_and_writes_nothing(self, manual, report, customer):
        _, installation, items = manual
        assert report(installation, one(items["report"], 2))[0] == 202  # 1.00
        assert report(installation, one(items["report"], -1, reason="half back"))[0] == 202  # 0.50 left to credit
        before = (written(), balance(customer))
        status, reply = report(installation, one(items["report"], -2, reason="too much"))
        assert status == 400 and items["report"] in reply["message"] and "0.500000 USD" in reply["message"]
        assert (written(), balance(customer)) == before
        assert report(installation, one(items["report"], -1, reason="the rest"))[0] == 202
        assert balance(customer) == Decimal("100")

    @pytest.mark.parametrize("reason", [None, "", "   ", 7, "x" * 256])
    def test_a_credit_without_a_reason_is_a_400(self, manual, report, reason):
        _, installation, items = manual
        assert report(installation, one(items["report"], 2))[0] == 202
        extra = {} if reason is None else {"reason": reason}
        status, reply = report(installation, one(items["report"], -1, **extra))
        assert status == 400 and "billable_items[0].reason" in reply["message"]
        assert BillingEvent.objects.count() == 1

    def test_a_credit_that_rounds_to_nothing_is_a_400(self, manual, report):
        _, installation, items = manual
        assert report(installation, one(items["page"], 5))[0] == 202
        status, reply = report(installation, one(items["page"], "-0.000001", reason="tiny"))
        assert status == 400 and "rounds to 0" in reply["message"] and BillingEvent.objects.count() == 1

    def test_the_customer_sees_the_credit(self, manual, report, customer):
        from tests.fixtures.core import console_client

        _, installation, items = manual
        report(installation, one(items["report"], 2))
        report(installation, one(items["report"], -1, reason="Outage on 1 Dec"))
        console = console_client(customer, "cust")
        page = console.get("/console/usage/").content.decode()
        assert "Outage on 1 Dec" in page
        invoice = console.get("/console/invoices/").content.decode()
        assert '<div class="value" id="credits">-0.50 USD</div>' in invoice


class TestBelowZero:
    def test_usage_may_take_the_balance_below_zero_then_priced_add_ons_stop(
        self, manual, report, customer, api, installed_at, httpserver
    ):
        _, installation, items = manual
        status, _ = report(installation, one(items["report"], 300))  # 150.00 on a 100.00 balance
        assert status == 202 and balance(customer) == Decimal("-50")
        alert = Notification.objects.get(account=customer, error_code=61036)
        assert alert.log_level == "warning" and "-50.00 USD" in alert.message and "61032" in alert.message
        # Alerted once, when it went below zero; more usage is billed all the same.
        assert report(installation, one(items["report"], 2))[0] == 202
        assert Notification.objects.filter(account=customer, error_code=61036).count() == 1
        installed_at(httpserver.url_for("/p"), unique_name="priced")
        result = lookup(api, "priced")["priced"]
        assert (result["status"], result["code"]) == ("failed", 61032)
        assert httpserver.log == []

    def test_staff_find_accounts_below_zero(self, manual, report, customer, other_customer, admin_client):
        _, installation, items = manual
        report(installation, one(items["report"], 300))
        page = admin_client.get("/admin/billing/balance/?below_zero=yes").content.decode()
        assert customer.sid in page and other_customer.sid not in page


class TestConcurrentReports:
    def send_all(self, live_server, publisher, installation, body, tokens):
        barrier = threading.Barrier(len(tokens))
        replies = []

        def send(token):
            barrier.wait()
            reply = requests.post(
                f"{live_server.url}/v1/InstalledAddOns/{installation}/Usage",
                json=body,
                auth=(publisher.sid, publisher.auth_token),
                headers={"I-Twilio-Idempotency-Token": token},
                timeout=30,
            )
            replies.append((reply.status_code, reply.json()))

        threads = [threading.Thread(target=send, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return replies

    def test_the_same_token_bills_once_and_answers_alike(self, live_server, manual, publisher, customer):
        _, installation, items = manual
        body = {"billable_items": [{"sid": items["report"], "quantity": 1}, {"sid": items["page"], "quantity": 4}]}
        replies = self.send_all(live_server, publisher, installation, body, ["same"] * 5)
        assert [status for status, _ in replies] == [202] * 5
        assert all(answer == replies[0][1] for _, answer in replies)
        assert replies[0][1]["total_submitted"] == 5
        assert BillingEvent.objects.count() == 2 and balance(customer) == Decimal("100") - Decimal("0.54")

    def test_different_tokens_bill_each(self, live_server, manual, publisher, customer):
        _, installation, items = manual
        body = one(items["report"], 1)
        replies = self.send_all(live_server, publisher, installation, body, [f"t{n}" for n in range(5)])
        assert [status for status, _ in replies] == [202] * 5
        assert BillingEvent.objects.count() == 5 and balance(customer) == Decimal("97.5")


def test_numbers_on_the_wire_are_exact(manual, report):
    _, installation, items = manual
    raw = '{"billable_items": [{"sid": "%s", "quantity": 0.1}, {"sid": "%s", "quantity": 0.2}]}' % (  # noqa: UP031 (JSON text: an f-string would double every brace)
        items["report"],
        items["page"],
    )
    status, body = report(installation, None, raw=raw)
    assert status == 202 and body["total_submitted"] == 0.3  # not 0.30000000000000004
    amounts = sorted(event.amount for event in BillingEvent.objects.all())
    assert amounts == [Decimal("0.002"), Decimal("0.05")]


REPORTER = """
import json, os, sys, time
import django

django.setup()
from accounts.models import Account
from billing import services

go, publisher_sid, installation_sid, items, token = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.005)
try:
    body = services.report_usage(
        publisher=Account.objects.get(sid=publisher_sid), installation_sid=installation_sid,
        items=json.loads(items), token=token,
    )
    print(json.dumps({"status": 202, "body": body}, default=str))
except services.UsageRefused as refusal:
    print(json.dumps({"status": refusal.status, "message": refusal.message}))
"""


@pytest.mark.parametrize("same_token", [True, False], ids=["same token", "different tokens"])
def test_reports_from_separate_processes(transactional_db, manual, publisher, customer, settings, tmp_path, same_token):
    """Four processes (as four web workers would) report at once on the test database."""
    _, installation, items = manual
    go = tmp_path / "go"
    body = json.dumps([{"sid": items["report"], "quantity": 2}])
    env = {
        **os.environ,
        "DATABASE_URL": cluster.test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                REPORTER,
                str(go),
                publisher.sid,
                installation,
                body,
                "same" if same_token else f"t{n}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    time.sleep(3)  # let them all import Django and wait at the line
    go.touch()
    outputs = [process.communicate(timeout=120) for process in processes]
    answers = [json.loads(out.strip().splitlines()[-1]) for out, err in outputs]
    assert [a["status"] for a in answers] == [202] * 4, outputs
    assert all(a["body"] == answers[0]["body"] for a in answers)
    billed = 1 if same_token else 4
    assert BillingEvent.objects.count() == billed and balance(customer) == Decimal("100") - billed


@pytest.mark.parametrize(
    "installation, body, status, code",
    [
        ("XE" + "0" * 32, {"billable_items": []}, 400, 20001),
        ("not-a-sid", {"billable_items": [{"sid": "BI", "quantity": 1}]}, 404, 20404),
    ],
    ids=["no items", "malformed installation SID"],
)
def test_every_refused_report_is_an_alert_in_the_publishers_debugger(
    report, publisher, installation, body, status, code
):
    """The refusal is told to the publisher by the billing service (the view only answers),
    whichever check refused it, and nothing else is written."""
    before = written()
    answer, reply = report(installation, body)
    assert (answer, reply["code"]) == (status, code)
    alert = Notification.objects.get(account=publisher)
    assert alert.error_code == code and alert.log_level == Notification.Level.WARNING
    assert alert.message == f"Usage report for {installation}: {reply['message']}"
    assert alert.resource_sid == installation
    assert written() == before


def test_the_service_alerts_a_refusal_whoever_calls_it(manual, publisher, customer):
    _, installation, items = manual
    with pytest.raises(billing_services.UsageRefused):
        billing_services.report_usage(
            publisher=customer, installation_sid=installation, items=[{"sid": items["report"], "quantity": 1}]
        )
    alert = Notification.objects.get(account=customer)
    assert alert.error_code == 20403 and installation in alert.message
    assert not Notification.objects.filter(account=publisher).exists()
