"""A circuit breaker per publisher endpoint, its state in the shared cache so every web and
worker process sees it: after repeated failures the platform fails fast for a while
(61015, not called, not billed), then lets one probe through to see if the endpoint is back.

A circuit is one publisher account's one endpoint URL, never a host: any publisher may list
a URL on any host, so failures it provokes there must open only its own circuit, never the
circuit of another publisher serving from the same host.

A Breaker reads the state of all of one event's endpoints in one cache read, and writes only
when something changes, so a healthy lookup costs one read whatever its add-ons. With the
cache unreachable every circuit counts as closed: calls go out as if no breaker were there,
rather than none going out at all (/readyz reports the cache). The database cache's table
is made by a migration (marketplace 0002), so `migrate` alone leaves a working breaker.
"""

import hashlib
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from marketplace import outages


class Endpoint(NamedTuple):
    publisher_sid: str
    url: str


def endpoint(target):
    """The circuit of a call about to be made (a builder.Target)."""
    return Endpoint(target.publisher_sid, target.endpoint["url"])


def endpoint_of(installation):
    """The circuit an installation's calls go to (its listing's publisher, its pinned URL)."""
    return Endpoint(installation.listing.publisher.sid, installation.version.endpoint["url"])


def _key(endpoint):
    # Hashed: a URL is the publisher's choice, of any length; cache keys are bounded.
    url_hash = hashlib.sha256(endpoint.url.encode("utf-8", "surrogatepass")).hexdigest()
    return f"circuit:{endpoint.publisher_sid}:{url_hash}"


class Breaker:
    def __init__(self, endpoints):
        self.keys = {endpoint: _key(endpoint) for endpoint in endpoints}
        self.reachable = True
        self.states = self._shared(cache.get_many, list(set(self.keys.values())), default={}) if self.keys else {}

    def _shared(self, operation, *args, default, **kwargs):
        """The cache operation's answer, or `default` once the cache proved unreachable."""
        if not self.reachable:
            return default
        try:
            return operation(*args, **kwargs)
        except outages.UNREACHABLE as error:
            outages.log(error, "circuit breaker")
            self.reachable = False
            return default

    def allows(self, endpoint):
        """Whether a call to this endpoint may go out now (taking the probe if half-open)."""
        state = self.states.get(self.keys[endpoint])
        if not state or not state.get("opened_until"):
            return True
        if time.time() < state["opened_until"]:
            return False
        # Half-open: exactly one caller, across all processes, gets to probe.
        return self._shared(
            cache.add, self.keys[endpoint] + ":probe", 1, timeout=settings.CIRCUIT_PROBE_TIMEOUT_S, default=True
        )

    def record(self, endpoint, *, failed):
        """Failures in a row open the circuit; a success closes it."""
        key = self.keys[endpoint]
        state = self.states.get(key)
        if not failed:
            if state:
                self._shared(cache.delete_many, [key, key + ":probe"], default=None)
                self.states.pop(key, None)
            return
        state = dict(state or {"failures": 0, "opened_until": 0})
        state["failures"] += 1
        if state["failures"] >= settings.CIRCUIT_FAILURES:
            state["opened_until"] = time.time() + settings.CIRCUIT_COOLDOWN_S
            self._shared(cache.delete, key + ":probe", default=None)
        self._shared(cache.set, key, state, timeout=None, default=None)
        self.states[key] = state
