"""The HTTP side: one ThreadingHTTPServer answering for all the example services.

`PublisherApp.handle` holds the whole request flow (route, verify the signature, replay
from the idempotency cache, compute, store) and knows nothing of sockets, so it can be
driven directly; `PublisherRequestHandler` only moves bytes between it and the socket.

Recording routes (a Route with an `audio_field`) are asynchronous, as the publisher guide
asks: the same flow reads the upload and answers 202 with no body, a bounded pool of
background workers computes the result, and `callbacks.post_result` posts it to the
request's callback URL. The 202 is what the idempotency cache stores, so a retried request
sid does not start a second computation.
"""

import hashlib
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from publishers import anagram, callbacks, reputation, sentiment, voice_insights
from publishers.inputs import PublisherError
from publishers.signature import (
    SIGNATURE_HEADER,
    SIGNING_PARAMS,
    RequestRejected,
    parse_form,
    verify_request,
)
from publishers.uploads import UploadRejected, read_audio_upload

logger = logging.getLogger("publishers")

# Message analysis requests are capped at 64 KB by the contract; this leaves room to spare.
MAX_BODY_BYTES = 1024 * 1024
# Recordings: about 35 minutes of 8 kHz 16-bit mono WAV (only the first minutes are analysed,
# but the whole body is needed to check its bodySHA256).
RECORDING_MAX_BODY_BYTES = 32 * 1024 * 1024
# Background work for asynchronous routes: this many at once, this many more waiting; beyond
# that a request is answered 503 so the platform retries it later.
BACKGROUND_WORKERS = 4
BACKGROUND_QUEUE = 8
CACHE_CAPACITY = 10_000
HEALTH_PATH = "/healthz"
REQUEST_SID_HEADER = "X-Twilio-RequestSid"
VENDOR_ACCOUNT_HEADER = "X-Twilio-VendorAccountSid"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# The platform's context headers, logged to trace a request (never the signature).
LOGGED_HEADERS = (
    (VENDOR_ACCOUNT_HEADER, "vendor_account"),
    ("X-Twilio-AddOnSid", "add_on"),
    ("X-Twilio-AddOnVersionSid", "version"),
    ("X-Twilio-AddOnInstallSid", "install"),
    ("X-Twilio-AddOnConfigurationSid", "configuration"),
)


@dataclass(frozen=True)
class Route:
    method: str
    handler: Callable[[Any], dict]
    # True: the handler gets the decoded JSON body; False: a flat dict of query + form params.
    reads_json: bool = False
    # Set for a recording route: the multipart part holding the audio (a raw audio/* body is
    # the audio itself). The handler gets an uploads.AudioUpload and runs in the background;
    # the request is answered 202 and the handler's result is posted to the URL in the
    # `callback_param` param.
    audio_field: str | None = None
    callback_param: str = "callback_url"
    max_body_bytes: int = MAX_BODY_BYTES

    @property
    def is_asynchronous(self) -> bool:
        return self.audio_field is not None


ROUTES: dict[str, Route] = {
    "/anagram": Route("POST", anagram.handle_request),
    "/sentiment": Route("POST", sentiment.handle_request, reads_json=True),
    "/reputation": Route("GET", reputation.handle_request),
    "/voice-insights": Route(
        "POST",
        voice_insights.handle_request,
        audio_field=voice_insights.AUDIO_FIELD,
        max_body_bytes=RECORDING_MAX_BODY_BYTES,
    ),
}


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    # The request target exactly as sent (path and query): the signature covers these bytes.
    target: str
    headers: Mapping[str, str]
    body: bytes = b""
    # The Host header, or the listening address when a client sent none.
    host: str = ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def json_response(status: int, payload: dict, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, headers=headers)


def error_response(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


@dataclass(frozen=True)
class StoredResponse:
    response: Response
    # What the first request looked like, to notice a request sid reused for another request.
    fingerprint: str


class ResponseCache:
    """Bounded LRU of request sid -> response: the platform retries with the same request sid."""

    def __init__(self, capacity: int = CACHE_CAPACITY):
        self.capacity = capacity
        self._entries: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request_sid: str) -> StoredResponse | None:
        with self._lock:
            stored = self._entries.get(request_sid)
            if stored is not None:
                self._entries.move_to_end(request_sid)
            return stored

    def put(self, request_sid: str, stored: StoredResponse) -> None:
        with self._lock:
            self._store(request_sid, stored)

    def put_if_absent(self, request_sid: str, stored: StoredResponse) -> StoredResponse | None:
        """Store `stored` unless the sid has a response already; return that one, else None."""
        with self._lock:
            existing = self._entries.get(request_sid)
            if existing is not None:
                self._entries.move_to_end(request_sid)
                return existing
            self._store(request_sid, stored)
            return None

    def discard(self, request_sid: str) -> None:
        with self._lock:
            self._entries.pop(request_sid, None)

    def _store(self, request_sid: str, stored: StoredResponse) -> None:
        self._entries[request_sid] = stored
        self._entries.move_to_end(request_sid)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class BackgroundJobs:
    """A bounded pool for asynchronous work: `workers` jobs at once, `queue` more waiting.

    A caller reserves a place first (`reserve`, false when full), so it can answer "busy"
    before promising anything; `start` then runs the job in that place, or `release` gives it
    back. `stopping` is set by `close`, for jobs to cut their waits short.
    """

    def __init__(self, workers: int = BACKGROUND_WORKERS, queue: int = BACKGROUND_QUEUE):
        if workers < 1 or queue < 0:
            raise ValueError("need at least one worker and a queue of zero or more")
        self.capacity = workers + queue
        self.stopping = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="publishers-job")
        self._places = threading.BoundedSemaphore(self.capacity)
        self._in_flight = 0
        self._idle = threading.Condition()

    def reserve(self) -> bool:
        if self.stopping.is_set() or not self._places.acquire(blocking=False):
            return False
        with self._idle:
            self._in_flight += 1
        return True

    def release(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()
        self._places.release()

    def start(self, job: Callable[[], None]) -> None:
        """Run `job` in a reserved place; RuntimeError (place released) once closed."""
        try:
            self._executor.submit(self._run, job)
        except RuntimeError:
            self.release()
            raise

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job is reserved or running; false on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        """Take no more jobs, drop the queued ones; running ones finish (their waits cut short)."""
        self.stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            logger.exception("background job failed")
        finally:
            self.release()


def utc_now() -> datetime:
    return datetime.now(UTC)


class PublisherApp:
    def __init__(
        self,
        *,
        auth_token: str,
        public_url: str | None = None,
        routes: Mapping[str, Route] = ROUTES,
        clock: Callable[[], datetime] = utc_now,
        cache_capacity: int = CACHE_CAPACITY,
        background_workers: int = BACKGROUND_WORKERS,
        background_queue: int = BACKGROUND_QUEUE,
    ):
        if not auth_token:
            raise ValueError("an auth token is required to verify the platform's signatures")
        self._auth_token = auth_token
        self.public_url = normalise_public_url(public_url) if public_url else None
        self.routes = dict(routes)
        self.clock = clock
        self.cache = ResponseCache(cache_capacity)
        self.jobs = BackgroundJobs(background_workers, background_queue)

    def __repr__(self) -> str:  # never show the token
        return f"PublisherApp(public_url={self.public_url!r}, routes={sorted(self.routes)!r})"

    def close(self) -> None:
        self.jobs.close()

    def body_limit(self, path: str) -> int:
        route = self.routes.get(path)
        return route.max_body_bytes if route is not None else MAX_BODY_BYTES

    def signed_url(self, request: IncomingRequest) -> str:
        """The URL the platform signed: scheme and host as it called them, then the raw target."""
        return (self.public_url or f"http://{request.host}") + request.target

    def handle(self, request: IncomingRequest) -> Response:
        if request.path == HEALTH_PATH:
            if request.method != "GET":
                return error_response(405, "method_not_allowed", "use GET", (("Allow", "GET"),))
            return json_response(200, {"status": "ok"})
        route = self.routes.get(request.path)
        if route is None:
            return error_response(404, "not_found", f"no service at {request.path}")
        if request.method != route.method:
            return error_response(405, "method_not_allowed", f"use {route.method}", (("Allow", route.method),))

        is_form = _content_type(request) == FORM_CONTENT_TYPE and request.method != "GET"
        try:
            form = parse_form(request.body) if is_form else None
        except UnicodeDecodeError:
            return error_response(400, "malformed_body", "the form body is not valid UTF-8 once decoded")
        try:
            verify_request(
                auth_token=self._auth_token,
                url=self.signed_url(request),
                signature=request.header(SIGNATURE_HEADER),
                now=self.clock(),
                form=form,
                body=None if is_form or request.method == "GET" else request.body,
            )
        except RequestRejected as rejection:
            logger.warning("rejected %s %s: %s", request.method, request.path, rejection.code)
            return error_response(401, rejection.code, rejection.message)

        request_sid = request.header(REQUEST_SID_HEADER)
        fingerprint = _fingerprint(request) if request_sid else ""
        if request_sid:
            stored = self.cache.get(request_sid)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    logger.warning(
                        "request sid %s reused for a different request; answering as the first time", request_sid
                    )
                logger.info("replayed request sid %s: answering with the stored response", request_sid)
                return stored.response

        if route.is_asynchronous:
            return self._accept(route, request, request_sid, fingerprint)
        try:
            service_input = _read_json(request.body) if route.reads_json else _flat_params(request, form)
            response = json_response(200, route.handler(service_input))
        except PublisherError as error:
            response = json_response(200, error.as_payload())
        except Exception:
            # 5xx makes the platform retry; not stored, so the retry computes afresh.
            logger.exception("%s %s failed", request.method, request.path)
            return error_response(500, "internal_error", "the service failed; retry")
        # Two concurrent first attempts may both compute: harmless, the services are deterministic.
        if request_sid:
            self.cache.put(request_sid, StoredResponse(response, fingerprint))
        return response

    def _accept(self, route: Route, request: IncomingRequest, request_sid: str | None, fingerprint: str) -> Response:
        """An asynchronous route: check what the background work needs, answer 202, start it."""
        try:
            upload = read_audio_upload(
                content_type=request.header("Content-Type") or "",
                body=request.body,
                query_params=_flat_params(request, None),
                audio_field=route.audio_field,
            )
        except UploadRejected as rejection:
            return error_response(rejection.status, rejection.code, rejection.message)
        callback_url = upload.params.get(route.callback_param, "").strip()
        if not callback_url:
            message = f"{route.callback_param} is required: the result is posted there"
            return error_response(400, "missing_callback_url", message)
        if not callbacks.is_callback_url(callback_url):
            return error_response(400, "invalid_callback_url", f"{route.callback_param} must be an http(s) URL")
        account_sid = (request.header(VENDOR_ACCOUNT_HEADER) or "").strip()
        if not account_sid:
            message = f"the {VENDOR_ACCOUNT_HEADER} header is required: the callback authenticates as that account"
            return error_response(400, "missing_account_sid", message)

        busy = error_response(503, "busy", "too many analyses under way; retry later", (("Retry-After", "1"),))
        if not self.jobs.reserve():
            logger.warning("busy: refused request sid %s with 503", request_sid or "-")
            return busy
        accepted = Response(status=202, body=b"")
        # Atomic, so two concurrent first attempts of one request sid start one job between them.
        if request_sid:
            stored = self.cache.put_if_absent(request_sid, StoredResponse(accepted, fingerprint))
            if stored is not None:
                self.jobs.release()
                logger.info("replayed request sid %s: answering with the stored response", request_sid)
                return stored.response

        def complete() -> None:
            self._complete(route, upload, callback_url, account_sid, request_sid or "-")

        try:
            self.jobs.start(complete)
        except RuntimeError:  # closing down
            if request_sid:
                self.cache.discard(request_sid)
            return busy
        return accepted

    def _complete(self, route: Route, upload: Any, callback_url: str, account_sid: str, request_sid: str) -> None:
        """Background: compute the result, or the error object, and post it to the callback."""
        started = time.perf_counter()
        try:
            payload = route.handler(upload)
        except PublisherError as error:
            payload = error.as_payload()
        except Exception:
            logger.exception("request sid %s: the computation failed", request_sid)
            payload = {"error": {"code": "internal_error", "message": "the analysis failed"}}
        logger.info(
            "request sid %s: computed %s in %.1f ms",
            request_sid,
            "an error object" if "error" in payload else "a result",
            (time.perf_counter() - started) * 1000,
        )
        callbacks.post_result(
            callback_url,
            payload,
            account_sid=account_sid,
            auth_token=self._auth_token,
            request_sid=request_sid,
            stop=self.jobs.stopping,
        )


def normalise_public_url(public_url: str) -> str:
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"the public URL must look like https://host[:port][/prefix], got {public_url!r}")
    return public_url.rstrip("/")


def _content_type(request: IncomingRequest) -> str:
    return (request.header("Content-Type") or "").partition(";")[0].strip().lower()


def _flat_params(request: IncomingRequest, form) -> dict[str, str]:
    """Query parameters (minus the signing ones) overlaid with form parameters, first value each."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        if name not in SIGNING_PARAMS:
            params.setdefault(name, value)
    if form is not None:
        params.update(form.first_values())
    return params


def _read_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PublisherError("invalid_json", "the request body must be a JSON object") from None


def _fingerprint(request: IncomingRequest) -> str:
    # A retry may be signed afresh, so the signing parameters are left out.
    query = sorted((n, v) for n, v in parse_qsl(request.query, keep_blank_values=True) if n not in SIGNING_PARAMS)
    digest = hashlib.sha256(f"{request.method} {request.path} {query!r} ".encode())
    digest.update(request.body)
    return digest.hexdigest()


class PublisherRequestHandler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes; with Nagle on, a kept-alive client waits
    # for its delayed ACK (~40 ms) before the body arrives.
    disable_nagle_algorithm = True
    server: "PublisherServer"
    protocol_version = "HTTP/1.1"  # keep-alive, so every response carries Content-Length
    server_version = "publishers/1"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        started = time.perf_counter()
        body, refusal = self._read_body()
        if refusal is not None:
            self.close_connection = True  # the unread body would be taken for the next request
            response = refusal
        else:
            host = self.headers.get("Host") or urlsplit(self.server.url).netloc
            request = IncomingRequest(
                method=self.command, target=self._target(), headers=self.headers, body=body, host=host
            )
            response = self.server.app.handle(request)
        self._send(response)
        context = [f"request_sid={self.headers.get(REQUEST_SID_HEADER, '-')}"]
        context += [f"{label}={self.headers[name]}" for name, label in LOGGED_HEADERS if self.headers.get(name)]
        # The path only: the query holds phone numbers.
        logger.info(
            "%s %s -> %d in %.1f ms %s",
            self.command,
            self._target().partition("?")[0],
            response.status,
            (time.perf_counter() - started) * 1000,
            " ".join(context),
        )

    def _target(self) -> str:
        # A proxy may send the absolute form (http://host/path?query); the path and query are what count.
        if self.path.startswith("/"):
            return self.path
        parts = urlsplit(self.path)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _read_body(self) -> tuple[bytes, Response | None]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return b"", error_response(411, "length_required", "send the body with a Content-Length")
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isdigit():
            return b"", error_response(400, "bad_content_length", "Content-Length must be a number")
        length = int(raw_length)
        limit = self.server.app.body_limit(self._target().partition("?")[0])
        if length > limit:
            return b"", error_response(413, "body_too_large", f"bodies are limited to {limit} bytes here")
        return self.rfile.read(length), None

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.body:  # a 202 has none
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def log_request(self, code="-", size="-") -> None:
        pass  # _dispatch logs each request with its context instead

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)


class PublisherServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: PublisherApp):
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, PublisherRequestHandler)

    def server_close(self) -> None:
        super().server_close()
        self.app.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(
    host: str,
    port: int,
    *,
    auth_token: str,
    public_url: str | None = None,
    routes: Mapping[str, Route] = ROUTES,
    clock: Callable[[], datetime] = utc_now,
    cache_capacity: int = CACHE_CAPACITY,
    background_workers: int = BACKGROUND_WORKERS,
    background_queue: int = BACKGROUND_QUEUE,
) -> PublisherServer:
    """A bound server (port 0 picks a free port); call serve_forever() to answer requests."""
    app = PublisherApp(
        auth_token=auth_token,
        public_url=public_url,
        routes=routes,
        clock=clock,
        cache_capacity=cache_capacity,
        background_workers=background_workers,
        background_queue=background_queue,
    )
    return PublisherServer((host, port), app)
