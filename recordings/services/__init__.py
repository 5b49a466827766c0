"""Recordings and their asynchronous add-ons: store, dispatch, accept callbacks, time out, tell
the customer. One module per concern; the public names are re-exported here, so callers say
`from recordings import services` and need not know which module holds what.

A result's life: queued -> processing -> completed | failed (see results.py for the one
conditional UPDATE each move is).
"""

from recordings.services.callbacks import CallbackRefused, callback_token, callback_url, receive_callback
from recordings.services.dispatch import ACCEPTANCE_LIMIT, deliver_to_publisher, judge_acceptance
from recordings.services.notifications import NOTIFY_DEFER_S, notify_customer
from recordings.services.recordings import create_recording, delete_payload, delete_recording, delete_result
from recordings.services.results import INTEGRATION_POINT, OPEN, hold_key
from recordings.services.sweep import fail_overdue_results, redeliver_stalled_results, renotify_lost_notifications

__all__ = [
    "ACCEPTANCE_LIMIT",
    "INTEGRATION_POINT",
    "NOTIFY_DEFER_S",
    "OPEN",
    "CallbackRefused",
    "callback_token",
    "callback_url",
    "create_recording",
    "delete_payload",
    "delete_recording",
    "delete_result",
    "deliver_to_publisher",
    "fail_overdue_results",
    "hold_key",
    "judge_acceptance",
    "notify_customer",
    "receive_callback",
    "redeliver_stalled_results",
    "renotify_lost_notifications",
]
