"""`make bench`: every measurement of benchmarks/, in one run on this machine, each
figure beside the limit it is bounded by (raw Kafka for the stream, raw SMTP for notices).

Prints a table, writes docs/bench/latest.json and docs/bench/latest.png. Loopback only: an
embedded broker and an SMTP sink started here; every loop bounded in count and time.
`python -m benchmarks --only ingest,notices` runs a subset (by module name).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import Context, Figure, discover
from streams.embedded.services import Broker, free_port
from streams.logging import configure_logging
from streams.settings import ROOT, load_settings

OUT = ROOT / "docs" / "bench"


def _start_sink(port: int) -> subprocess.Popen[str]:
    sink = subprocess.Popen([sys.executable, "-m", "benchmarks.smtp_sink", str(port)],  # noqa: S603
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert sink.stdout is not None
    if sink.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP sink did not start")
    return sink


async def run(only: set[str] | None) -> Context:
    broker, port = Broker(port=free_port()), free_port()
    broker.start()
    sink = _start_sink(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = Context(bootstrap=broker.bootstrap, smtp_host="127.0.0.1", smtp_port=port, scratch=Path(tmp))
            for m in discover():
                if only and m.name.split(".")[0] not in only:
                    continue
                print(f"  measuring {m.name} …", file=sys.stderr, flush=True)
                for figure in await m.run(ctx):
                    ctx.figures[figure.key] = figure
        return ctx
    finally:
        sink.terminate()
        sink.wait(10)
        broker.stop()


def ratio(ctx: Context, figure: Figure) -> float | None:
    limit = ctx.limit_of(figure.limit) if figure.limit else None
    return figure.value / limit if limit else None


def table(ctx: Context) -> str:
    rows = [("figure", "value", "unit", "of its limit", "note")]
    for f in ctx.figures.values():
        r = ratio(ctx, f)
        rows.append((f.label, f"{f.value:,.2f}" if f.value < 10 else f"{f.value:,.0f}", f.unit,
                     f"{r:.2%}" if r is not None else "", f.note))
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]),
                                row[3].rjust(widths[3]), row[4]]).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_json(ctx: Context) -> dict[str, Any]:
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "load_average_at_end": os.getloadavg()}  # other work on the machine skews every figure
    return {"at": datetime.now(UTC).isoformat(), "machine": machine,
            "figures": {f.key: {"label": f.label, "value": f.value, "unit": f.unit, "limit": f.limit,
                                "ratio_to_limit": ratio(ctx, f), "note": f.note} for f in ctx.figures.values()},
            "details": ctx.extra}


def chart(ctx: Context, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bounded = [f for f in ctx.figures.values() if ratio(ctx, f) is not None]
    workers = [f for f in ctx.figures.values() if f.key.startswith("workers_")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    left, right = axes
    shares = [100 * (ratio(ctx, f) or 0) for f in bounded]
    left.barh([f.label for f in bounded], shares, color="#3b6ea5")
    for y, share in enumerate(shares):
        left.annotate(f"{share:.2g} %", (share, y), xytext=(4, 0), textcoords="offset points", va="center")
    left.set_xscale("log")  # shares span orders of magnitude
    left.set_xlim(right=100)
    left.set_xlabel("% of its limit (raw Kafka or raw SMTP, same run; log scale)")
    left.set_title("Throughput as a share of the limit")
    left.invert_yaxis()
    if workers:
        right.bar([f.key.split("_")[1] for f in workers], [f.value for f in workers], color="#5a9e6f")
        right.set_xlabel("worker processes")
        right.set_ylabel("events/s (ingest → incident)")
        right.set_title("Scale-out on this machine")
    else:
        right.axis("off")
    fig.suptitle(f"breach-response make bench — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPU(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(prog="python -m benchmarks")
    args.add_argument("--only", help="comma-separated measurement modules (e.g. kafka_raw,ingest)")
    args.add_argument("--out", default=str(OUT), help="folder for latest.json and latest.png")
    options = args.parse_args(argv)
    configure_logging(load_settings({}, log_level="warning"))  # one line per event would be the bench
    ctx = asyncio.run(run(set(options.only.split(",")) if options.only else None))
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(as_json(ctx), indent=2) + "\n")
    chart(ctx, out / "latest.png")
    print(f"\nbreach-response bench (embedded broker, this machine: {os.cpu_count()} CPUs shared by all)\n")
    print(table(ctx))
    print(f"\nwritten to {out / 'latest.json'} and {out / 'latest.png'}")


if __name__ == "__main__":
    main()
