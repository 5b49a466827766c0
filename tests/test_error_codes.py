"""Every error code lives in marketplace/codes.py, and docs/errors.md lists exactly those."""

import re
from pathlib import Path

from django.conf import settings

from invocation import outcomes
from marketplace import codes
from marketplace.errors import MarketplaceError, error_body

ERRORS_MD = Path(settings.BASE_DIR) / "docs" / "errors.md"
# A code in a table row: the first or second cell (the manual usage table leads with HTTP).
ROW = re.compile(r"^\|\s*(?:\d{3}\s*\|\s*)?(\d{5})\s*\|", re.MULTILINE)


def documented_codes():
    return {int(code) for code in ROW.findall(ERRORS_MD.read_text())}


def test_docs_list_exactly_the_codes_the_platform_answers_with():
    documented = documented_codes()
    assert documented - codes.ALL == set(), "documented but not in marketplace/codes.py"
    assert codes.ALL - documented == set(), "in marketplace/codes.py but not documented in docs/errors.md"


def test_every_outcome_code_comes_from_the_codes_module():
    for outcome in outcomes.ALL.values():
        assert outcome.code is None or outcome.code in codes.ALL, outcome


def test_codes_are_unique_names_for_unique_numbers():
    names = [name for name, value in vars(codes).items() if name.isupper() and isinstance(value, int)]
    values = [getattr(codes, name) for name in names]
    assert len(values) == len(set(values)), "two names for one code"


def test_one_shape_for_every_error_body():
    assert error_body(codes.NOT_FOUND, "gone", 404) == {
        "code": 20404,
        "message": "gone",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    error = MarketplaceError("bad", code=codes.INVALID_PARAMETER, details=[{"path": "$.a"}])
    assert error.as_body() == {**error_body(20001, "bad", 400), "details": [{"path": "$.a"}]}


def test_add_ons_failing_for_different_reasons_answer_61001_and_one_reason_its_own_code():
    from invocation.engine import Result, add_ons_object

    timeout = Result("slow", "XR" + "1" * 32, "failed", codes.TIMEOUT, "late", None)
    refused = Result("broken", "XR" + "2" * 32, "failed", codes.HTTP_4XX, "refused", None)
    assert add_ons_object([timeout, refused])["code"] == codes.SEVERAL_ADD_ONS_FAILED == 61001
    assert add_ons_object([timeout])["code"] == codes.TIMEOUT
    assert add_ons_object([])["code"] is None
