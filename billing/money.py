"""How money is shown: one precision per kind of figure, used by the console, CSV and charts.

Values are Decimal from the database on; they are rounded here for people, never computed
with floats. The API keeps the stored six places (see billing.selectors and billing.services).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# kind: (fewest places, most places). Trailing zeros past the fewest are dropped.
PLACES = {
    "total": (2, 2),  # balances, totals, statement and invoice figures: cents
    "amount": (2, 6),  # one charge, a unit price, a day's amount: 0.0001 stays visible
    "quantity": (0, 6),  # units, minutes: 12.5, 3
}


def to_decimal(value):
    """A Decimal from a Decimal, an int or a decimal string; floats are refused."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}")


def format_money(value, kind="total"):
    """`value` as fixed-point text with the kind's precision: "1234.50", "0.0001", "12.5"."""
    if value is None or value == "":
        return ""
    fewest, most = PLACES[kind]
    number = to_decimal(value).quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    text = format(number, "f")
    if "." in text and most > fewest:
        whole, places = text.split(".")
        places = places.rstrip("0").ljust(fewest, "0")
        text = f"{whole}.{places}" if places else whole
    if text.startswith("-") and not any(c not in "-0." for c in text):
        text = text[1:]  # no "-0.00"
    return text
