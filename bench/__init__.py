"""Benchmarks: Upline measured against the limit of its own database, as ratios taken in one run.

`python -m bench [--quick]` starts DynamoDB Local, runs every registered benchmark, writes a JSON
report under bench/reports/ and ends with one line `BENCH {json}`. A benchmark is a function in a
module named `bench/bench_*.py`, registered with `@benchmark(...)` from bench.registry; the runner
imports every such module, so adding one is adding one file (see docs/performance.md).
"""
