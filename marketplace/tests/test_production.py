"""Production settings, health and readiness, and structured logs."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.logs import MarketplaceJsonFormatter, RedactTokens, RequestSidDefault

ROOT = Path(__file__).resolve().parents[2]


def django_in_a_subprocess(code, **env):
    """Run `code` with Django set up under the given environment; its stdout."""
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'marketplace.settings'); django.setup()\n"
        + code
    )
    environment = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    return result


PRODUCTION = {
    "MARKETPLACE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "marketplace.example.com,testserver",
}


def test_check_deploy_is_clean_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "MARKETPLACE_ENV": "production", "SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_is_https_only_but_probes_are_not_redirected():
    result = django_in_a_subprocess(
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='marketplace.example.com')\n"
        "r = c.get('/console/login/'); print(r.status_code, r['Location'])\n"
        "r = c.get('/console/login/', HTTP_X_FORWARDED_PROTO='https'); print(r.status_code, r.get('Strict-Transport-Security'))\n"
        "print(c.get('/healthz').status_code)\n",
        **PRODUCTION,
    )
    lines = result.stdout.split("\n")
    assert lines[0] == "301 https://marketplace.example.com/console/login/", result.stderr
    assert lines[1].startswith("200 max-age=31536000; includeSubDomains; preload")
    assert lines[2] == "200"


def test_production_cookies_are_secure_and_http_only():
    result = django_in_a_subprocess(
        "from django.conf import settings\n"
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, settings.DEBUG)\n",
        **PRODUCTION,
        DEBUG="1",
    )
    assert result.stdout.strip() == "True True True False", result.stderr


def test_healthz_and_readyz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "cache": "ok",
    }


def test_readyz_is_503_when_the_database_is_unreachable():
    result = django_in_a_subprocess(
        "from django.test import Client\nr = Client().get('/readyz'); print(r.status_code); print(r.content.decode())\n",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="",
        ALLOWED_HOSTS="testserver",
    )
    status, body = result.stdout.split("\n", 1)
    assert status == "503", result.stderr
    assert json.loads(body)["database"].startswith("unreachable")


def test_readyz_is_503_when_redis_is_unreachable():
    result = django_in_a_subprocess(
        "from django.test import Client\nr = Client().get('/readyz'); print(r.status_code); print(r.content.decode())\n",
        REDIS_URL="redis://127.0.0.1:1/0",
        ALLOWED_HOSTS="testserver",
    )
    status, body = result.stdout.split("\n", 1)
    assert status == "503", result.stderr
    assert json.loads(body)["broker"].startswith("unreachable")


def test_json_log_lines_carry_the_request_sid():
    record = logging.LogRecord("invocation.engine", logging.INFO, __file__, 1, "invocation %s", ("x",), None)
    record.request_sid = "XR" + "a" * 32
    line = json.loads(MarketplaceJsonFormatter().format(record))
    assert line["request_sid"] == "XR" + "a" * 32 and line["level"] == "INFO" and line["message"] == "invocation x"
    plain = logging.LogRecord("django", logging.INFO, __file__, 1, "hello", (), None)
    RequestSidDefault().filter(plain)
    assert json.loads(MarketplaceJsonFormatter().format(plain))["request_sid"] == ""


@pytest.mark.parametrize(
    "path",
    [
        "/callbacks/v1/AddOnResults/XR" + "a" * 32 + "/" + "c0ffee" * 8,
        "/downloads/v1/Payloads/eyJzaWQiOiJYSCJ9:1vX:sig-nature_",
    ],
)
def test_log_lines_keep_paths_but_not_the_tokens_in_them(rf, path):
    """Django logs a failed request as 'Not Found: <path>' with the request beside it."""
    token = path.rsplit("/", 1)[1]
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", (path,), None)
    record.request = rf.get(path)
    RequestSidDefault().filter(record)
    assert RedactTokens().filter(record)
    line = MarketplaceJsonFormatter().format(record)
    assert token not in line and "[redacted]" in line
    assert json.loads(line)["message"] == "Not Found: " + path.replace(token, "[redacted]")


def test_every_invocation_is_logged_with_its_request_sid(api, installed_at, httpserver, caplog):
    httpserver.expect_request("/ok").respond_with_json({"ok": True})
    installed_at(httpserver.url_for("/ok"), unique_name="logged")
    with caplog.at_level(logging.INFO, logger="invocation.engine"):
        body = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": ["logged", "missing"]}).json()
    sid = body["add_ons"]["results"]["logged"]["request_sid"]
    lines = [r for r in caplog.records if r.name == "invocation.engine"]
    assert [(r.request_sid, r.getMessage()) for r in lines if r.request_sid == sid] == [
        (sid, lines[0].getMessage())
    ] and "success" in lines[0].getMessage()
    assert all(r.request_sid.startswith("XR") or r.request_sid == "" for r in lines)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_need_no_credentials(anonymous_api, db, path):
    assert anonymous_api.client.get(path).status_code == 200
