"""The process's repositories over one table, built once by the composition root (they hold the
process's bounded caches); each unit of work hands them out."""

from __future__ import annotations

from typing import Any

from .accounts import AccountRepo
from .analytics import AnalyticsRepo
from .coupons import CouponRepo
from .leaderboards import LeaderboardRepo
from .ledger import LedgerRepo
from .links import CODE_CACHE_SIZE, LinkRepo
from .members import MemberRepo
from .orders import OrderRepo
from .outbound import WebhookRepo
from .partners import PartnerRepo
from .plans import PlanRepo
from .review import ReviewRepo
from .settlement import SettlementStore
from .shops import ShopRepo
from .stats import StatsRepo


class Repositories:
    def __init__(self, table: Any, code_cache_size: int = CODE_CACHE_SIZE):
        self.table = table
        self.accounts = AccountRepo(table)
        self.links = LinkRepo(table, code_cache_size)
        self.partners = PartnerRepo(table)
        self.ledger = LedgerRepo(table)
        self.plans = PlanRepo(table)
        self.review = ReviewRepo(table)
        self.settlement = SettlementStore(table)
        self.stats = StatsRepo(table)
        self.orders = OrderRepo(table, self.links, self.stats)
        self.members = MemberRepo(table)
        self.leaderboards = LeaderboardRepo(table)
        self.shops = ShopRepo(table)
        self.coupons = CouponRepo(table)
        self.webhooks = WebhookRepo(table)
        self.analytics = AnalyticsRepo(table)
