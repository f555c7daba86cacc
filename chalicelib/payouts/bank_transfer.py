"""A bank-transfer file: one CSV row per payout, which a bank portal's bulk-payment import reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ..domain.money import format_minor
from ..exports import safe_cell
from .base import Payout


class BankTransferFile:
    name = "bank_transfer"
    file_name = "bank-transfer.csv"
    content_type = "text/csv"

    def issue(self, payouts: Iterable[Payout]) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(["payment_reference", "beneficiary_id", "beneficiary_name", "currency", "amount"])
        for p in payouts:
            # The partner's bank details live with the bank portal's beneficiary list, keyed by id:
            # Upline never stores account numbers.
            w.writerow(
                [
                    safe_cell(c)
                    for c in (
                        f"UPLINE-{p.payout_id}",
                        p.partner_id,
                        p.partner_name,
                        p.currency,
                        format_minor(p.amount_minor, p.currency).split(" ")[0],
                    )
                ]
            )
        return buf.getvalue().encode("utf-8")
