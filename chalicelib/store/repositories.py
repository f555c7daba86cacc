"""The process's repositories over one table, built once by the composition root (they hold the
process's bounded caches); each unit of work hands them out."""
from __future__ import annotations

from typing import Any

from .batches import BatchRepo
from .ledger import LedgerRepo
from .links import LinkRepo
from .orders import OrderRepo
from .partners import PartnerRepo
from .periods import PeriodRepo
from .plans import PlanRepo
from .review import ReviewRepo


class Repositories:
    def __init__(self, table: Any):
        self.table = table
        self.links = LinkRepo(table)
        self.partners = PartnerRepo(table)
        self.orders = OrderRepo(table, self.links)
        self.ledger = LedgerRepo(table)
        self.plans = PlanRepo(table)
        self.periods = PeriodRepo(table)
        self.batches = BatchRepo(table)
        self.review = ReviewRepo(table)
