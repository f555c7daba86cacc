"""Benchmark-only emulation of DynamoDB's concurrency (never imported by chalicelib/):

- clock.py: modelled time, a discrete-event simulation whose processes are greenlets;
- memory.py: an in-memory table with the low-level client's interface (expressions.py, capacity.py);
- contention.py: the wrapper at the store's client boundary that holds transactions' items, cancels
  conflicting transactions, throttles hot partition keys and counts all of it.
"""
