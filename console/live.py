"""Live updates (server-sent events): the ids of the incidents that changed, coalesced, for the
pages to refresh; only those the reader is granted (console/tenants.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from console import tenants
from console.site import Site

SSE_KEEPALIVE_SECONDS = 15.0


def routes(site: Site) -> list[BaseRoute]:
    async def events(request: Request) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        me = site.user_of(request)
        users = site.config.users
        # A local user's password, role or grant changed: the stream ends rather than go on with the
        # grant it opened with (the browser reconnects, as whoever it is now, if anyone).
        stamp = users.stamp(me.name) if me.kind == "user" else None

        def listener(what: str) -> None:
            if not tenants.sees_change(site.model, me, what):  # another controller's incident: not even its id
                return
            with contextlib.suppress(asyncio.QueueFull):  # a stalled reader only misses coalesced pings
                queue.put_nowait(what)

        # Listen before answering: a change between this and the first byte the browser reads is queued,
        # and one before it is caught by the refresh the page makes on "hello".
        site.model.listeners.append(listener)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\nevent: hello\ndata: []\n\n"
                while True:
                    try:
                        first = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    changed = {first}
                    while not queue.empty():
                        changed.add(queue.get_nowait())
                    if stamp is not None and users.stamp(me.name) != stamp:
                        return
                    yield f"event: incidents\ndata: {json.dumps(sorted(changed))}\n\n"
            finally:
                site.model.listeners.remove(listener)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    return [Route("/events", events)]
