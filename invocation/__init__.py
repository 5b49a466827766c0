"""Calling publishers at the integration points, exactly as the publisher guide promises, and
calling customers' own URLs. Above billing (a call is held, then charged), below recordings.

builder   renders the publisher request from the installation's pinned version and signs it
transport sends it over pooled keep-alive sessions with a deadline, retries and a size cap
verdict   applies the response rules and the pricing model to what came back
outcomes  the one table of what a call can come to: codes, messages, SLA and billing rules
circuit   pauses calls to a publisher endpoint that keeps failing
pacing    a publisher's declared rate limit
engine    resolves what to call, fans the calls out in parallel, records and notifies
          (its prepare -> send -> finish is the one path of every call: lookups, inbound,
          a recording's dispatch and the test console)
records   writes the invocations (XR), charges them, and the debugger notes they cause
trial     a publisher's test invocation (never billed)
inbound   the sandbox's incoming messages and calls, and the customer's webhook
webhooks  signed calls of the customer's URLs
carrier   Lookups' own carrier data
sla       a publisher's SLA figures from its invocation records
api/      Lookups, the inbound sandbox and test invocations over HTTP
"""
