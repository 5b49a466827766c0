"""Payloads are data: what a publisher posts to its callback is served as a download, never as a
page of our origin. A hostile recording publisher on loopback posts `text/html` with a script
over real HTTP to the live server; the customer's download is an attachment, nosniff, with a
type from the allowlist, from PAYLOAD_DOWNLOAD_ORIGIN when set."""

import json

import pytest
import requests

from recordings.downloads import OCTET_STREAM, safe_content_type
from recordings.models import Payload
from tests.fixtures.payloads import SCRIPT_BODY


def download(api, base):
    payload = Payload.objects.get()
    data = api.get(f"{base}/Payloads/{payload.sid}/Data.json")
    assert data.status_code == 307
    return data.json()["redirect_to"], payload


def test_a_text_html_callback_is_stored_and_served_as_bytes_to_download(hostile_result, api):
    hostile, base = hostile_result
    reply = hostile.call_back(SCRIPT_BODY, "text/html; charset=utf-8")
    assert reply.status_code == 200 and reply.json()["status"] == "completed"

    url, payload = download(api, base)
    assert payload.content_type == OCTET_STREAM  # decided at the callback, not only when served
    served = requests.get(url, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == OCTET_STREAM
    assert served.headers["Content-Disposition"] == f'attachment; filename="{payload.sid}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.content == SCRIPT_BODY.encode()  # kept byte for byte, only never rendered
    # The API's Payload resource says the same type.
    assert api.get(f"{base}/Payloads/{payload.sid}.json").json()["content_type"] == OCTET_STREAM


def test_a_json_callback_keeps_its_type_and_is_still_an_attachment(hostile_result, api):
    hostile, base = hostile_result
    assert hostile.call_back(SCRIPT_BODY, "application/json").status_code == 200

    url, payload = download(api, base)
    served = requests.get(url, timeout=10)
    assert payload.content_type == "application/json"
    assert served.headers["Content-Type"] == "application/json"
    assert served.headers["Content-Disposition"] == f'attachment; filename="{payload.sid}.json"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(served.content) == json.loads(SCRIPT_BODY)


def test_downloads_come_from_the_download_origin_when_one_is_set(hostile_result, api, settings, live_server):
    hostile, base = hostile_result
    assert hostile.call_back(SCRIPT_BODY, "text/html").status_code == 200
    # The same web processes under another host name: another origin than the console's.
    port = live_server.url.rsplit(":", 1)[1]
    settings.PAYLOAD_DOWNLOAD_ORIGIN = f"http://127.0.0.1:{port}"
    assert not live_server.url.startswith(settings.PAYLOAD_DOWNLOAD_ORIGIN)

    payload = Payload.objects.get()
    data = api.get(f"{base}/Payloads/{payload.sid}/Data.json")
    assert data.headers["Location"] == data.json()["redirect_to"]
    assert data.json()["redirect_to"].startswith(f"http://127.0.0.1:{port}/downloads/v1/Payloads/")
    served = requests.get(data.json()["redirect_to"], timeout=10)
    assert served.status_code == 200 and served.content == SCRIPT_BODY.encode()


def test_a_payload_stored_with_any_type_before_the_allowlist_is_served_as_bytes(hostile_result, api):
    hostile, base = hostile_result
    assert hostile.call_back(SCRIPT_BODY, "application/json").status_code == 200
    Payload.objects.update(content_type="text/html")  # as an older release stored it
    url, _ = download(api, base)
    served = requests.get(url, timeout=10)
    assert served.headers["Content-Type"] == OCTET_STREAM
    assert served.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "sent,stored",
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        (None, "application/json"),  # the documented default of a callback
        ("", "application/json"),
        ("text/html", OCTET_STREAM),
        ("image/svg+xml", OCTET_STREAM),
        ("application/xhtml+xml", OCTET_STREAM),
        ("text/plain", OCTET_STREAM),
        ("application/json\x00text/html", OCTET_STREAM),
    ],
)
def test_the_allowlist(sent, stored):
    assert safe_content_type(sent) == stored
