"""A test client that talks like Twilio's SDKs: form-encoded PascalCase in, JSON out.

Every response it receives is checked against the official OpenAPI descriptions, so each
API test is also a conformance test.
"""

import base64
import json
from urllib.parse import urlencode, urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.openapi import CONFORMANCE


def basic_auth(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Reply:
    def __init__(self, response):
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.body = response.content

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return f"<Reply {self.status_code} {self.body[:300]!r}>"


class TwilioTestClient:
    def __init__(self, username=None, password=None, *, check=True):
        self.client = Client()
        self.headers = {}
        if username is not None:
            self.headers["HTTP_AUTHORIZATION"] = basic_auth(username, password)
        self.check = check

    def _done(self, method, path, response):
        reply = Reply(response)
        if self.check:
            body = reply.json() if reply.body else None
            CONFORMANCE.check(method, urlsplit(path).path, reply.status_code, body)
        return reply

    def get(self, path, params=None, **extra):
        return self._done("GET", path, self.client.get(path, params or {}, **self.headers, **extra))

    def post(self, path, data=None, **extra):
        body = urlencode(data or {}, doseq=True)
        response = self.client.post(
            path, body, content_type="application/x-www-form-urlencoded", **self.headers, **extra
        )
        return self._done("POST", path, response)

    def post_json(self, path, payload, **extra):
        body = json.dumps(payload)
        return self._done(
            "POST", path, self.client.post(path, body, content_type="application/json", **self.headers, **extra)
        )

    def upload(self, path, data, **extra):
        """A multipart/form-data POST; file values are (name, bytes) tuples."""
        fields = {
            key: SimpleUploadedFile(value[0], value[1], content_type="application/octet-stream")
            if isinstance(value, tuple)
            else value
            for key, value in data.items()
        }
        return self._done("POST", path, self.client.post(path, fields, **self.headers, **extra))

    def delete(self, path, **extra):
        return self._done("DELETE", path, self.client.delete(path, **self.headers, **extra))
