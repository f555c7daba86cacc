from datetime import datetime, timezone

import pytest

from chalicelib.domain.errors import InvalidInput, Unprocessable
from chalicelib.domain.links import check_destination, with_click_id
from chalicelib.domain.plans import Plan, plan_in_force, validate_plan

ALLOWED = frozenset({"shop.example.com"})


@pytest.mark.parametrize("url", [
    "https://evil.example.net/", "http://shop.example.com/", "https://shop.example.com.evil.net/",
    "https://user:pw@shop.example.com/", "javascript:alert(1)", "//evil.net/", "https://evilshop.example.com/",
])
def test_links_may_not_point_off_the_programs_domains(url):
    with pytest.raises(InvalidInput):
        check_destination(url, ALLOWED)


def test_subdomains_of_an_allowed_domain_are_allowed():
    assert check_destination("https://m.shop.example.com/a?b=1", ALLOWED)


def test_click_id_is_appended_and_replaces_any_forged_one():
    url = with_click_id("https://shop.example.com/p?x=1&upline_click=forged#top", "c_1")
    assert url == "https://shop.example.com/p?x=1&upline_click=c_1#top"


def t(y):
    return datetime(y, 1, 1, tzinfo=timezone.utc)


def test_the_plan_in_force_is_the_latest_effective_version():
    plans = [Plan(1, t(2020), (1000,)), Plan(2, t(2025), (900,)), Plan(3, t(2030), (800,))]
    assert plan_in_force(plans, t(2026)).version == 2
    with pytest.raises(Unprocessable):
        plan_in_force(plans, t(2019))


@pytest.mark.parametrize("plan", [
    Plan(1, t(2020), ()), Plan(1, t(2020), (10001,)), Plan(1, t(2020), (6000, 5000)),
    Plan(1, t(2020), (100,) * 11), Plan(1, t(2020), (100,), rank_overrides={"gold": {2: 100}}),
    Plan(1, t(2020), (100,), holding_days=400),
])
def test_plans_that_could_overpay_or_reach_too_deep_are_refused(plan):
    with pytest.raises(InvalidInput):
        validate_plan(plan, max_depth=10)
