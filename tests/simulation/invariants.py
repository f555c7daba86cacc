"""Invariants checked on the stored table after every step, from what is stored alone (no model).

Balances, per partner and currency (all in minor units):
  ledger    = the sum of every entry in the partners' ledger partitions, LEDGER#{partner}#{sub}
              (commissions, reversals, bonuses, returned payouts; not the sale postings beside them)
  pending   = entries whose settlement period has no finished batch yet (not in any line)
  paid_out  = payout_minor of the lines of batches issued to the bank (approved or paid), failed
              payouts included: a failure gives the amount back as a new ledger entry, which is
              pending (or available) again
  available = the carried balance (CARRY#) plus payout_minor of lines in batches not issued yet (draft)
and ledger == paid_out + available + pending must hold to the minor unit. Then what a partner is
shown (the states `domain.ledger` derives for every reader) must agree with the same stored lines.
"""
from __future__ import annotations

import json
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from chalicelib.domain.ledger import LineFate, totals_by_state
from chalicelib.store.ledger import entry_from, is_entry

FINISHED = {"draft", "approved", "paid", "reconciliation_failed"}
ISSUED = {"approved", "paid"}


class Broken(AssertionError):
    pass


def check(items: list[dict[str, Any]], seen_entries: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Raise Broken naming the first invariant that does not hold. Updates `seen_entries`."""
    entries, lines, carries, batches, orders, periods, plans = [], [], {}, {}, {}, {}, {}
    for i in items:
        pk, sk = i["PK"], i["SK"]
        if pk.startswith("LEDGER#"):
            if is_entry(i):  # else a sale posting (volume, not money)
                entries.append(i)
        elif pk.startswith("BATCH#") and sk.startswith("LINE#"):
            lines.append(i)
        elif sk.startswith("CARRY#"):
            carries[(i["partner_id"], i["currency"])] = i
        elif sk == "BATCH":
            batches[i["period"]] = i
        elif sk == "ORDER":
            orders[i["order_id"]] = i
        elif sk == "PERIOD" and pk.startswith("PERIOD#"):
            periods[pk[7:]] = i
        elif pk == "PROGRAM" and sk.startswith("PLAN#"):
            plans[i["version"]] = i

    # 1. Entries are written once and never changed or deleted.
    now_seen = {(e["PK"], e["SK"]): e for e in entries}
    for key, before in seen_entries.items():
        if key not in now_seen:
            raise Broken(f"ledger entry {key} was deleted")
        if now_seen[key] != before:
            raise Broken(f"ledger entry {key} changed: {before} -> {now_seen[key]}")
    seen_entries.update(now_seen)

    # 2. ledger = paid out + available + pending, per partner and currency.
    finished = {p for p, b in batches.items() if b["status"] in FINISHED}
    ledger, pending, paid, available = (defaultdict(int) for _ in range(4))
    settling = defaultdict(lambda: [0, 0])
    for e in entries:
        k = (e["partner_id"], e["currency"])
        ledger[k] += e["amount_minor"]
        if e["settles_in"] not in finished:
            pending[k] += e["amount_minor"]
        else:
            s = settling[(e["settles_in"], *k)]
            s[0] += e["amount_minor"]
            s[1] += 1
    seen_lines = set()
    for ln in lines:
        k = (ln["partner_id"], ln["currency"])
        status = batches[ln["period"]]["status"]
        (paid if status in ISSUED else available)[k] += ln["payout_minor"]
        # 5. One line per (partner, period, currency), and it accounts for exactly its entries.
        lk = (ln["period"], *k)
        if lk in seen_lines:
            raise Broken(f"two lines for {lk}")
        seen_lines.add(lk)
        if settling.get(lk, [0, 0]) != [_entries_minor(ln), ln["entry_count"]]:
            raise Broken(f"line {lk} does not account for its entries: {settling.get(lk)} vs {ln}")
        if ln["carried_in_minor"] + _entries_minor(ln) != ln["payout_minor"] + ln["carried_out_minor"]:
            raise Broken(f"line {lk} does not balance")
        if ln["payout_minor"] < 0:
            raise Broken(f"negative payout on {lk}")
        if ln.get("payout_status") == "failed" and status not in ISSUED:
            raise Broken(f"a payout of a {status} batch failed: {lk}")
    missing = {k for k in settling if k not in seen_lines}
    if missing:
        raise Broken(f"entries settled in a finished batch without a line: {sorted(missing)}")
    for k, c in carries.items():
        available[k] += c["amount_minor"]
    for k in set(ledger) | set(paid) | set(available):
        if ledger[k] != paid[k] + available[k] + pending[k]:
            raise Broken(f"{k}: ledger {ledger[k]} != paid out {paid[k]} + available {available[k]} "
                         f"+ pending {pending[k]}")

    # 7. What a partner is shown (domain.ledger, as every reader derives it) counts each unit once:
    # the states add up to the ledger, paid / in payment / returned are the payouts of the lines,
    # and what is owed but in no payout is the carried balance plus what no line has taken.
    fates, lines_of = defaultdict(list), defaultdict(list)
    for ln in lines:
        lines_of[(ln["partner_id"], ln["currency"])].append(ln)
        fates[ln["partner_id"]].append(LineFate(ln["period"], ln["currency"], ln["payout_minor"],
                                                batches[ln["period"]]["status"], ln.get("payout_status") == "failed"))
    mine = defaultdict(list)
    for e in entries:
        mine[e["partner_id"]].append(entry_from(e))
    for pid, es in mine.items():
        for cur, t in totals_by_state(es, "0000-00", fates[pid]).items():
            k = (pid, cur)
            payouts = defaultdict(int)
            for ln in lines_of[k]:
                status = batches[ln["period"]]["status"]
                payouts["returned" if ln.get("payout_status") == "failed" else
                        "paid" if status == "paid" else "in_payment"] += ln["payout_minor"]
            unsettled = sum(e.amount_minor for e in es if e.currency == cur and e.settles_in != "HOLD"
                            and (e.settles_in, pid, cur) not in seen_lines)
            shown = {s: t[s] for s in ("paid", "in_payment", "returned")}
            if (sum(t.values()) != ledger[k] or shown != {s: payouts[s] for s in shown}
                    or t["pending"] + t["payable"] != carries.get(k, {}).get("amount_minor", 0) + unsettled):
                raise Broken(f"{k}: shown {t} does not match the ledger {ledger[k]}, the payouts {dict(payouts)} "
                             f"or the carried balance and unsettled entries {unsettled}")

    # 3. No order earns more than its plan's cap; 6. a full refund nets each of its entries to zero.
    by_order = defaultdict(list)
    for e in entries:
        if e["kind"] in ("commission", "reversal"):
            by_order[e["order_id"]].append(e)
    for oid, o in orders.items():
        credited = sum(ln["amount_minor"] for ln in o.get("lines", []))
        plan = plans.get(o["plan_version"])
        if plan is not None and o.get("lines"):
            # With a cap: never above it, floored. Without one: each level rounds half-even on its own,
            # so the total may pass the summed rate by at most half a unit per level.
            capped = plan.get("cap_bps") is not None
            limit = plan["cap_bps"] if capped else sum(plan["levels_bps"])
            cap = int((Decimal(o["amount_minor"]) * limit / 10000).to_integral_value(rounding=ROUND_FLOOR))
            cap += 0 if capped else len(plan["levels_bps"]) // 2 + 1
            if credited > min(cap, o["amount_minor"]):
                raise Broken(f"order {oid} earned {credited} over its cap {cap}")
        net = defaultdict(int)
        for e in by_order.get(oid, []):
            net[e.get("reverses") or e["entry_id"]] += e["amount_minor"]
        if any(v < 0 for v in net.values()):
            raise Broken(f"order {oid} reversed more than it credited: {dict(net)}")
        if o["refunded_minor"] == o["amount_minor"] and any(v != 0 for v in net.values()):
            raise Broken(f"order {oid} is fully refunded but its entries net to {dict(net)}")

    # 4. No payout without a closed period and an approved batch (by someone other than its maker).
    for p, b in batches.items():
        issued = b["status"] in ISSUED
        if issued:
            if periods.get(p, {}).get("status") != "closed":
                raise Broken(f"batch {p} is {b['status']} but its period is {periods.get(p, {}).get('status')}")
            if not json.loads(b["reconciliation"])["ok"]:
                raise Broken(f"batch {p} was issued without reconciling")
            if b.get("approved_by") in (b["created_by"], b["changed_by"]) or "payout_file" not in b:
                raise Broken(f"batch {p} was issued without a second person's approval")
        elif "payout_file" in b:
            raise Broken(f"batch {p} has a payout file but is {b['status']}")


def _entries_minor(ln: dict[str, Any]) -> int:
    return ln["commissions_minor"] + ln["bonuses_minor"] + ln["clawbacks_minor"] + ln["adjustments_minor"]


def check_projection(ledger: list[dict[str, Any]], figures: dict[tuple[str, str], dict[str, int]],
                     total: str) -> None:
    """The stream projection, fully drained, holds each partner's figures exactly as its ledger
    partitions add them up — every entry and sale posting counted once, however often the stream
    delivered it: all-time credited and reversed commissions, sales and attributed orders per
    partner (`total`), and sales and refunds per partner and period."""
    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i in ledger:
        if "entry_id" in i:
            if i["kind"] == "commission" and not json.loads(i.get("trace") or "{}").get("releases"):
                expected[(i["partner_id"], total)][f"credited_{i['currency']}"] += i["amount_minor"]
            elif i["kind"] == "reversal":
                expected[(i["partner_id"], total)][f"reversed_{i['currency']}"] -= i["amount_minor"]
        elif "sale_partner" in i:
            pid, cur, amount = i["sale_partner"], i["sale_currency"], i["sale_minor"]
            expected[(pid, total)][f"sales_{cur}"] += amount
            expected[(pid, total)]["attributed_orders"] += 1 if i.get("counts_order") else 0
            expected[(pid, i["sale_period"])][f"{'sales' if amount >= 0 else 'refunds'}_{cur}"] += abs(amount)
    for key in set(expected) | set(figures):
        want = {k: v for k, v in expected.get(key, {}).items() if v}
        got = {k: v for k, v in figures.get(key, {}).items() if v}
        if want != got:
            raise Broken(f"figures of {key} are {got}, the ledger says {want}")
