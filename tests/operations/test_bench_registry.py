"""`make bench` is a registry of measurement modules; the report's arithmetic (the timings
themselves belong to `make bench`, never to a test)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import Context, Figure, discover
from benchmarks.report import as_json, chart, ratio, table


def test_every_measurement_module_is_found_and_the_limits_run_first() -> None:
    found = {m.name: m.order for m in discover()}
    assert {"kafka_raw.raw_kafka", "smtp_raw.raw_smtp", "ingest.ingest_one_worker", "scaleout.scale_out",
            "notices.notice_fanout", "clocks.clocks", "correlation.correlation", "delivery.delivery",
            "pure_steps.pure_steps"} <= set(found)
    limits = max(found["kafka_raw.raw_kafka"], found["smtp_raw.raw_smtp"])
    assert all(order > limits for name, order in found.items() if name.split(".")[0] not in ("kafka_raw", "smtp_raw"))


# What issue 8 asks `make bench` to measure, by figure key (throughputs are reported with their limit).
ASKED = {
    "raw_produce_per_s", "raw_consume_per_s", "raw_smtp_per_s",  # the limits
    "ingest_per_s", "workers_{n}_per_s",  # ingest → incident, one worker and 2-3 worker processes
    "ingest_p50_ms", "ingest_p99_ms",  # latency
    "ingest_peak_rss_mb", "worker_peak_rss_mb",  # memory per worker
    "clock_lag_p50_s", "clock_lag_p99_s",  # clock lag
    "notices_per_s", "delivery_per_s",  # notice throughput: drafts and the notice to everyone affected
}


def _figures_in_source() -> dict[str, dict[str, str]]:
    """key -> keyword arguments (as source text) of every ``Figure(...)`` the measurement modules build."""
    import ast

    import benchmarks

    found: dict[str, dict[str, str]] = {}
    for path in Path(benchmarks.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Figure" and node.args:
                key = ast.unparse(node.args[0]).strip("f'\"")
                found[key] = {k.arg or "": ast.unparse(k.value) for k in node.keywords}
    return found


def test_the_pure_steps_are_each_measured_on_every_record() -> None:
    from benchmarks import pure_steps

    found = pure_steps.steps(count=40)  # it refuses records that would not each become a signal and a command
    assert set(found) == {"normalise", "correlate", "incident", "signals_codec", "commands_codec"}
    assert all(value > 0 for value in found.values())


def test_every_figure_the_issue_asks_for_is_measured_and_throughputs_name_their_limit() -> None:
    from benchmarks import scaleout

    figures = _figures_in_source()
    assert set(figures) >= ASKED, ASKED - set(figures)
    assert {1, 2, 3} <= set(scaleout.WORKER_COUNTS)
    for key, keywords in figures.items():
        if key.endswith("_per_s") and keywords.get("note") != "'limit'":
            assert "limit" in keywords, f"{key} is a throughput without the limit it is compared with"


def test_each_figure_is_reported_beside_its_limit(tmp_path: Path) -> None:
    ctx = Context(bootstrap="-", smtp_host="-", smtp_port=0, scratch=tmp_path)
    for f in (Figure("raw_kafka_per_s", "raw Kafka", 40_000, "msg/s"),
              Figure("ingest_per_s", "ingest", 800, "events/s", limit="raw_kafka_per_s"),
              Figure("workers_2_per_s", "2 workers", 1_200, "events/s", limit="raw_kafka_per_s"),
              Figure("orphan_per_s", "no limit measured", 5, "x", limit="never_measured")):
        ctx.figures[f.key] = f
    assert ratio(ctx, ctx.figures["ingest_per_s"]) == 0.02
    assert ratio(ctx, ctx.figures["orphan_per_s"]) is None
    assert "2.00%" in table(ctx).splitlines()[3]
    written = json.loads(json.dumps(as_json(ctx)))
    assert written["figures"]["workers_2_per_s"]["ratio_to_limit"] == 0.03
    chart(ctx, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
