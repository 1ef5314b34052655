"""Direct delivery: a consumer that can take a live event synchronously, inside the pump.

A woken consumer task costs more than the write it then does: at a thousand subscribers of one
channel, resuming a task and its chain of suspended frames for each of them made delivery cost
~1.7x a bare WebSocket broadcast. A subscriber whose consumer is parked, in sync and idle can
instead be handed each live event by the pump, which calls ``deliver`` for it right away.

``prepare`` lets the pump do, once per event and before it offers the event to anyone, the
asynchronous work that ``deliver`` needs done (rendering the payload), so that ``deliver``
finds it done for every subscriber, not only the first.

Anything ``deliver`` declines (it returns False) is queued and handled by the consumer task as
before; that is also the path for every event that does not directly follow the last one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from pipeline.broadcast.log_base import LogEntry

Prepare = Callable[[LogEntry], Awaitable[object] | None]
Deliver = Callable[[LogEntry], bool]


class DirectDelivery:
    """Set by the consumer once it is ready (and cleared when it ends); read by the pump."""

    __slots__ = ("deliver", "group", "prepare")

    def __init__(self) -> None:
        self.prepare: Prepare | None = None  # an awaitable if there is work before deliver
        self.deliver: Deliver | None = None  # True: delivered; False: queue it as usual
        # Subscribers whose ``prepare`` does the same work share a group: the pump prepares
        # each event once per group (a thousand sockets of one document: once).
        self.group: Hashable = self
