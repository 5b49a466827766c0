"""A circuit breaker per publisher host, its state in the shared cache so every web and
worker process sees it: after repeated failures the platform fails fast for a while
(61015, not called, not billed), then lets one probe through to see if the host is back.

A Breaker reads the state of all of one event's hosts in one cache read, and writes only
when something changes, so a healthy lookup costs one read whatever its add-ons. With the
cache (Redis) unreachable every circuit counts as closed: calls go out as if no breaker
were there, rather than none going out at all.
"""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from marketplace import outages


def _key(url):
    parts = urlsplit(url)
    return f"circuit:{parts.scheme}://{parts.hostname}:{parts.port or ''}"


class Breaker:
    def __init__(self, urls):
        self.keys = {url: _key(url) for url in urls}
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

    def allows(self, url):
        """Whether a call to this URL's host may go out now (taking the probe if half-open)."""
        state = self.states.get(self.keys[url])
        if not state or not state.get("opened_until"):
            return True
        if time.time() < state["opened_until"]:
            return False
        # Half-open: exactly one caller, across all processes, gets to probe.
        return self._shared(cache.add, self.keys[url] + ":probe", 1, timeout=settings.CIRCUIT_PROBE_TIMEOUT_S, default=True)

    def record(self, url, *, failed):
        """Failures in a row open the circuit; a success closes it."""
        key = self.keys[url]
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
