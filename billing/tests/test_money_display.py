"""Money is Decimal from the database to every surface, shown with one precision per kind
of figure (billing.money.format_money): no float touches it (finding 5 of issue 13)."""

import ast
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing import services
from billing.models import BillingEvent
from billing.money import format_money
from console.charts import stacked_bars
from tests.fixtures.core import console_client

ROOT = Path(__file__).resolve().parents[2]
# A number with more places than any kind of money figure shows (six at most).
TOO_PRECISE = re.compile(r"\d\.\d{7,}")
NOISE = re.compile(r"\d\.\d*(9999|0000)\d*[1-9]")


def charge(customer, listing, price, key, quantity=1, days_ago=0):
    event = services.charge(
        key=key,
        kind="manual",
        account=customer,
        listing=listing,
        installation=None,
        quantity=quantity,
        price=Decimal(price),
        reference=key,
    )
    if days_ago:
        BillingEvent.objects.filter(pk=event.pk).update(date_created=timezone.now() - timezone.timedelta(days=days_ago))
    return event


@pytest.fixture
def noisy(customer, listing):
    """Amounts whose float sums are noisy: 0.1443 x 3 is 0.43289999999999995 in floats,
    and 0.006 x 3 is 0.018000000000000002."""
    for n in range(3):
        charge(customer, listing, "0.1443", f"a{n}")
        charge(customer, listing, "0.006", f"b{n}", days_ago=1)
    return customer


def test_no_float_in_billing_or_console_code():
    """An AST scan: no float() call and no float literal in the money apps, and no
    floatformat in the templates (one precision, from format_money, everywhere)."""
    found = []
    for app in ("billing", "console"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} float()")
                if isinstance(node, ast.Constant) and isinstance(node.value, float):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} float literal {node.value}")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "floatformat" in path.read_text():
            found.append(f"{path.relative_to(ROOT)} floatformat")
    assert found == []


@pytest.mark.parametrize(
    "value, kind, text",
    [
        (Decimal("99.999999"), "total", "100.00"),
        (Decimal("0.4329999999"), "amount", "0.433"),
        (Decimal("0.0001"), "amount", "0.0001"),
        (Decimal("0.5"), "amount", "0.50"),
        (Decimal("-50"), "total", "-50.00"),
        (Decimal("-0.001"), "total", "0.00"),
        (Decimal("12.500000"), "quantity", "12.5"),
        ("3", "quantity", "3"),
        (Decimal("1.005"), "total", "1.01"),  # half up, as accountants round
    ],
)
def test_one_precision_per_kind(value, kind, text):
    assert format_money(value, kind) == text


def test_floats_are_refused():
    with pytest.raises(TypeError):
        format_money(0.1)


def test_the_usage_page_chart_and_csv_have_no_float_noise(noisy, listing):
    console = console_client(noisy, "cust")
    page = console.get("/console/usage/").content.decode()
    assert not TOO_PRECISE.search(page) and not NOISE.search(page), TOO_PRECISE.search(page) or NOISE.search(page)
    assert '<div class="value" id="balance">99.55 USD</div>' in page  # 100 - 0.4329 - 0.018
    assert "caller_insight: 0.4329 USD</title>" in page and "caller_insight: 0.018 USD</title>" in page
    assert 'text-anchor="end">0.4329</text>' in page  # the chart's peak label
    rows = list(csv.reader(io.StringIO(console.get("/console/usage/?format=csv").content.decode())))
    assert sorted((r[3], r[4]) for r in rows[1:]) == [("3", "0.018"), ("3", "0.4329")]


def test_the_chart_takes_decimals_and_prints_them_exactly():
    today = timezone.now().date()
    rows = [{"day": today, "series": "x", "amount": Decimal("0.432999999")}]
    svg, _ = stacked_bars(rows, start=today, end=today)
    assert "x: 0.433 USD" in svg and "0.4329999" not in svg


def test_usage_records_price_is_an_exact_number(noisy, api):
    reply = api.get(f"/2010-04-01/Accounts/{noisy.sid}/Usage/Records.json", {"StartDate": "2020-01-01"})
    text = reply.body.decode()
    assert not TOO_PRECISE.search(text) and not NOISE.search(text)
    record = reply.json()["usage_records"][0]
    assert record["category"] == "marketplace" and record["price"] == 0.4509  # a JSON number, as the schema says


def test_statement_and_invoice_pages_show_cents(customer, publisher, listing):
    for n in range(3):
        charge(customer, listing, "0.1443", f"a{n}")
        charge(customer, listing, "0.006", f"b{n}")
    pages = [
        console_client(publisher, "pub").get("/console/publisher/statements/").content.decode(),
        console_client(customer, "cust").get("/console/invoices/").content.decode(),
    ]
    for page in pages:
        assert not TOO_PRECISE.search(page) and not NOISE.search(page)
        assert "0.45 USD" in page  # the month's total in cents (a line may show 0.4509)


def test_a_day_a_credit_outweighed_draws_no_bar():
    today = timezone.now().date()
    rows = [
        {"day": today, "series": "x", "amount": Decimal("-0.5")},
        {"day": today, "series": "y", "amount": Decimal("1")},
    ]
    svg, _ = stacked_bars(rows, start=today, end=today)
    assert "x: " not in svg and "y: 1.00 USD" in svg and 'height="-' not in svg
