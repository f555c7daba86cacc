"""Settling periods: one module per job.

    deps.py            what a settlement works with (`Deps`) and the plan a period is settled under
    close.py           running a period's settlement: which periods are due, the steps in order,
                       finalizing the batch, and the fan-out worker's shard job
    bonuses.py         the bonus entries and ranks a period earns at its close
    shards.py          settling one shard of partners: its lines computed (reads only), then written
    exports.py         the export files' bytes (summary, detail, JSON), where they are kept, verifying them
    batches.py         a batch as finance reads it: the list, one batch with its lines, a line's entries
    approval.py        finance's sign-off on a batch: approve it (and issue the payout file), mark it paid
    preview.py         what settling a period now would pay (the dry run), written nowhere
    partner_ledger.py  a partner's entries with the state settlement left each in

A period's settlement is a fixed sequence of idempotent steps, each safe to run twice, concurrently,
or again after a crash half-way: start closing (entries stop landing in the period), write the
bonus entries, apply the ranks, settle each shard of partners (a line and a carried balance per
partner and currency, written together), and finalize (exports, reconciliation). The shards run in
this process or fan out over SQS; both paths run the same functions and produce the same bytes.
The rules themselves are pure, in `domain/settlement.py` and `domain/bonuses.py`. The audited
entry points (API, CLI, schedule) are in `services/finance.py`.
"""
