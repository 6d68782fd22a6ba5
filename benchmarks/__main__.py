"""`make bench` is `python -m benchmarks` (benchmarks/report.py)."""

from benchmarks.report import main

main()
