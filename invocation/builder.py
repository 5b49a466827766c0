"""The publisher request, rendered from an installation's pinned version and signed.

Pure: no database, no network. The engine gathers a Target from the database, the builder
turns it and one event's values into a PublisherRequest that the transport sends as is.

Signing follows Twilio's webhook signatures, keyed by the publisher account's auth token, so
`twilio.request_validator.RequestValidator(token).validate(...)` accepts what we send:
- the URL carries `twilio_date` (UTC) and `twilio_ttl` (ms), so both are signed;
- form bodies: the signature covers the URL and the sorted form parameters;
- JSON bodies: the URL also carries `bodySHA256` and the signature covers the URL alone.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from addons import credentials
from addons.template_fields import AUDIO_DATA, Field, parse_template, render_template

REDACTED = "[redacted]"
DEFAULT_AUDIO_FORMAT = "audio/x-wav"
BODY_HASHED_FORMATS = ("json", "raw", "multipart")
# Stands for the recording's bytes among the rendered parameters.
AUDIO = object()
USER_AGENT = "marketplace-addons/1.0"


@dataclass(frozen=True)
class Target:
    """Everything needed to call one installation's publisher, read from the database."""

    request_sid: str
    unique_name: str
    add_on_type: str
    integration_point: str
    publisher_sid: str
    publisher_auth_token: str
    listing_sid: str
    version_sid: str
    install_sid: str
    installation_sid: str
    endpoint: dict
    configuration: dict
    configuration_properties: tuple
    runtime_fields: tuple
    request_validation_schema: dict | None
    response_validation_schema: dict | None
    pricing: dict
    size_limit: int
    deadline_ms: int


@dataclass(frozen=True)
class Param:
    name: str
    value: object
    secret: bool = False


@dataclass
class PublisherRequest:
    method: str
    url: str
    headers: dict
    body: bytes | None
    signature_base: str
    timeout_ms: int
    retries: int
    ttl_ms: int
    # The same request with credentials and the signature blanked: safe to store and show.
    redacted: dict = field(default_factory=dict)


def template_values(target, inputs, runtime, *, now):
    """Every template field's value for one event: platform fields, configuration, runtime."""
    # Only the schema's settings: reserved keys (a recording's callback_url) never reach templates.
    values = {name: target.configuration.get(name, "") for name in target.configuration_properties}
    values.update({name: "" for name in target.runtime_fields})
    values.update({k: v for k, v in runtime.items() if k in target.runtime_fields})
    values.update({"primary_address": "", "secondary_address": "", "body": ""})
    values.update(inputs)
    values["request_sid"] = target.request_sid
    values["unix_timestamp"] = str(int(now.timestamp()))
    return values


def build_request(target, values, *, now):
    endpoint = target.endpoint
    method = endpoint["method"]
    request_format = endpoint["format"]
    ttl_ms = endpoint["ttl_ms"]

    native = request_format == "json"
    params = [Param(name, _render(template, values, native=native)) for name, template in endpoint["params"].items()]
    query, body_params, headers = [], [], {}
    if request_format == "query":
        query.extend(params)
    elif request_format == "raw":
        # The audio is the body; every other parameter rides in the (signed) query string.
        query.extend(p for p in params if p.value is not AUDIO)
    elif request_format == "multipart":
        body_params.extend(_with_audio_part(params, endpoint["audio_field"]))
    else:
        body_params.extend(params)
    # Credentials are sealed at rest; opened here, for this request only.
    _apply_auth(credentials.open_endpoint(endpoint)["auth"], values, query, body_params, headers)
    for name, template in endpoint.get("headers", {}).items():
        headers[name] = render_template(template, values)

    body, content_type = _body(request_format, body_params, values, boundary=_boundary(target))
    signing = [Param("twilio_date", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")), Param("twilio_ttl", ttl_ms)]
    if request_format in BODY_HASHED_FORMATS:
        signing.append(Param("bodySHA256", hashlib.sha256(body).hexdigest()))
    url = _url(endpoint["url"], query + signing)

    signed_params = {p.name: str(p.value) for p in body_params} if request_format == "form" else {}
    validator = RequestValidator(target.publisher_auth_token)
    signature = validator.compute_signature(url, signed_params)
    signature_base = url + "".join(f"{name}{signed_params[name]}" for name in sorted(signed_params))

    headers.update(
        {
            "User-Agent": USER_AGENT,
            "X-Twilio-VendorAccountSid": target.publisher_sid,
            "X-Twilio-Signature": signature,
            "X-Twilio-RequestSid": target.request_sid,
            "X-Twilio-AddOnSid": target.listing_sid,
            "X-Twilio-AddOnVersionSid": target.version_sid,
            "X-Twilio-AddOnInstallSid": target.install_sid,
            "X-Twilio-AddOnConfigurationSid": target.installation_sid,
            "X-Twilio-Date": signing[0].value,
            "X-Twilio-TTL": str(ttl_ms),
        }
    )
    if content_type:
        headers["Content-Type"] = content_type

    request = PublisherRequest(
        method=method,
        url=url,
        headers=headers,
        body=body if method != "GET" else None,
        signature_base=signature_base,
        timeout_ms=min(endpoint["timeout_ms"], target.deadline_ms),
        retries=endpoint["retries"],
        ttl_ms=ttl_ms,
    )
    request.redacted = _redacted(
        request, endpoint, query, body_params, signing, request_format, values, _boundary(target)
    )
    return request


def _with_audio_part(params, audio_field):
    """The multipart params with the audio in the part named `audio_field`: that member alone
    sends it; a param of the same name (its value can only be `{{audio_data}}`) is that part."""
    audio = Param(audio_field, AUDIO)
    if any(p.name == audio_field for p in params):
        return [audio if p.name == audio_field else p for p in params]
    return [*params, audio]


def _render(template, values, *, native):
    """A template's value; in a JSON body a lone `{{field}}` keeps its JSON type (5, true).
    `{{audio_data}}` stands alone (the manifest rules see to it) and becomes AUDIO."""
    parts = parse_template(template)
    lone = parts[0] if len(parts) == 1 and isinstance(parts[0], Field) and not parts[0].sha256 else None
    if lone is not None and lone.name == AUDIO_DATA:
        return AUDIO
    if native and lone is not None and isinstance(values[lone.name], (bool, int, float)):
        return values[lone.name]
    return render_template(template, values)


def _apply_auth(auth, values, query, body_params, headers):
    kind = auth["type"]
    if kind == "basic":
        user = render_template(auth["username"], values)
        password = render_template(auth["password"], values)
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    elif kind == "bearer":
        headers["Authorization"] = "Bearer " + render_template(auth["token"], values)
    elif kind == "query":
        query.append(Param(auth["name"], render_template(auth["value"], values), secret=True))
    elif kind == "body":
        body_params.append(Param(auth["name"], render_template(auth["value"], values), secret=True))


def _body(request_format, body_params, values, *, boundary, hide_audio=False):
    if request_format == "form":
        return urlencode([(p.name, _text(p.value)) for p in body_params]).encode(), "application/x-www-form-urlencoded"
    if request_format == "json":
        payload = {p.name: p.value for p in body_params}
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(), "application/json"
    if request_format == "raw":
        return _audio(values, hide_audio), values.get("format") or DEFAULT_AUDIO_FORMAT
    if request_format == "multipart":
        return _multipart(body_params, values, boundary, hide_audio), f"multipart/form-data; boundary={boundary}"
    return b"", None


def _audio(values, hide):
    audio = values[AUDIO_DATA]
    return f"<{len(audio)} bytes of audio>".encode() if hide else audio


def _multipart(body_params, values, boundary, hide_audio):
    chunks = []
    for param in body_params:
        if param.value is AUDIO:
            filename = f"{values.get('media_sid') or 'audio'}.wav"
            head = (
                f'Content-Disposition: form-data; name="{param.name}"; filename="{filename}"\r\n'
                f"Content-Type: {values.get('format') or DEFAULT_AUDIO_FORMAT}\r\n\r\n"
            )
            content = _audio(values, hide_audio)
        else:
            head = f'Content-Disposition: form-data; name="{param.name}"\r\n\r\n'
            content = _text(param.value).encode()
        chunks += [f"--{boundary}\r\n".encode(), head.encode(), content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _boundary(target):
    # Random per request (the request SID is), so it cannot occur in the audio by design.
    return f"marketplace-{target.request_sid}"


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _url(base, params):
    if not params:
        return base
    separator = "&" if urlsplit(base).query else "?"
    return base + separator + urlencode([(p.name, _text(p.value)) for p in params])


def _hidden(params):
    return [Param(p.name, REDACTED) if p.secret else p for p in params]


def _redacted(request, endpoint, query, body_params, signing, request_format, values, boundary):
    """The request as stored in invocation records and shown in the debugger (no audio)."""
    body, _ = _body(request_format, _hidden(body_params), values, boundary=boundary, hide_audio=True)
    headers = {
        name: REDACTED if name in ("Authorization", "X-Twilio-Signature") else value
        for name, value in request.headers.items()
    }
    return {
        "method": request.method,
        "url": _url(endpoint["url"], _hidden(query) + signing),
        "headers": headers,
        "body": body.decode("utf-8", errors="replace") if request.body is not None else None,
    }
