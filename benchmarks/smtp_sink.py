"""An SMTP server that only counts what it accepts, run as its own process by `make bench`
(client and server in one event loop would measure the loop, not SMTP).
`python -m benchmarks.smtp_sink PORT` prints "ready" once listening."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiosmtpd.smtp import SMTP


class Counting:
    accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        Counting.accepted += 1
        return "250 OK"


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Counting(), hostname="bench-sink"), "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
