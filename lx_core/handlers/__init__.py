"""Webhook handlers on one contract: declared, registered, derived into routes and subscriptions.

    specs.py      what each handler declares (stdlib only: read when the app is indexed)
    base.py       the Handler interface and its result
    filters.py    the shared filters: event type, fact-sheet type, own user, archived
    idempotency.py  claims by event id, for handlers that do not re-read
    sequence.py   the last transactionSequenceNumber applied per fact sheet
    dispatch.py   one event through filters, claim, guard and handler
    registry.py   the handlers by name, built lazily, checked against webhooks.json
    time.py, creator_subscription.py, archive_notice.py, subscription_removed.py

An event enters at ``functions/leanix_webhooks.py`` (one route per spec), is decided in
``lx_core/decisions/`` and written through the client; notices go to the relay's log.
"""
