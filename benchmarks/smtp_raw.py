"""The limit of notices: raw aiosmtplib sends to a local sink, pre-serialised messages over a
pool of 4 connections (the best shape research/runtime.md §5 found)."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib

from benchmarks import Context, Figure, measurement

N = 2_000
POOL = 4


@measurement(order=20)
async def raw_smtp(ctx: Context) -> list[Figure]:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "bench@localhost", "dpo@bench.example", "bench"
    message.set_content("x" * 2000)
    message.add_alternative("<p>" + "x" * 2000 + "</p>", subtype="html")
    raw = message.as_bytes()

    async def worker(count: int) -> None:
        client = aiosmtplib.SMTP(hostname=ctx.smtp_host, port=ctx.smtp_port, start_tls=False)
        await client.connect()
        for _ in range(count):
            await client.sendmail("bench@localhost", ["dpo@bench.example"], raw)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker(N // POOL) for _ in range(POOL)))
    rate = N / (time.perf_counter() - started)
    return [Figure("raw_smtp_per_s", "raw SMTP (aiosmtplib, 4 connections)", rate, "msg/s", note="limit")]
