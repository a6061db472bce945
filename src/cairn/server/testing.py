"""Serving the app in-process to a synchronous ``httpx.Client``, without a socket.

``httpx.ASGITransport`` only works with async clients; this transport runs it on an event loop
in a background thread, so cairn's synchronous REST store (and any test) can talk to an app
directly::

    >>> with httpx.Client(transport=InProcessTransport(app), base_url="http://cairn") as client:
    ...     client.get("/health")                                 # doctest: +SKIP

Close the client when done: that stops the transport's event-loop thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx
from anyio.from_thread import BlockingPortal


class InProcessTransport(httpx.BaseTransport):
    """An httpx transport that hands requests to an ASGI app in this process."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app)
        self._portal_cm: AbstractContextManager[BlockingPortal] = (
            anyio.from_thread.start_blocking_portal()
        )
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def send() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            response = await self._transport.handle_async_request(forwarded)
            body = await response.aread()
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._portal.call(send)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)
