"""Calling publishers at the integration points, exactly as the publisher guide promises.

builder   renders the publisher request from the installation's pinned version and signs it
transport sends it over pooled keep-alive sessions with a deadline, retries and a size cap
verdict   applies the response rules and the pricing model to what came back
engine    resolves what to call, fans the calls out in parallel, records and notifies
          (its prepare -> send -> finish is the one path of every call: lookups, inbound,
          a recording's dispatch and the test console)
"""
