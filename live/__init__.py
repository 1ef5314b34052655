"""Live delivery: every subscription's events from its channel to its sockets.

A subscription is declared (``LiveSubscription``: channel, cursor, how an entry becomes an
event, who listens) and streamed with ``stream``; this package does the rest: replay from the
cursor, rendering once per (viewer, document, variables) group (``render``), direct writes for
sockets that keep up and queued ones for slow sockets (``deliver``, ``eager_send``), the
token's expiry and erasure closing sockets. The WebSocket transport (``api.ws_handlers``) opens
an ``Outlet`` per operation; the hub and its logs (``pipeline.broadcast``) carry the events.
"""
