// The member's rewards page: invite, tier and progress toward the next one, rewards, coupons.
import { addCatalogue, S, api, card, copyButton, dateLabel, errorText, h, money, pill, t, table, toast } from "../core.js";
import labels from "../i18n/member.js";

addCatalogue(labels, "member");

export function render(main) {
  const id = S.me.member_id;
  const invite = card(t("my_invite"), () => api(`/members/${id}`), (m) => {
    const url = `${location.origin}/i/${m.invite_code}`;
    return h("div", { id: "invite" }, h("p", {}, `${t("code")}: `, h("code", { id: "invite-code", class: "link-code" },
      m.invite_code)),
      h("div", { class: "row" }, h("a", { href: url, class: "link-url wrap" }, url), copyButton(url, t("copy_invite"))));
  });
  const tier = card(t("my_tier"), () => api(`/members/${id}/tier`), (x) => {
    const cur = x.activity.currency;
    const act = x.activity;
    return h("div", { id: "tier" },
      h("p", {}, pill(x.tier), ` ${t("discount")}: ${x.discount_bps / 100}%`),
      h("p", { class: "muted" }, `${t("spend")}: ${money(act.spend_minor, cur)} · ${t("orders")}: ` +
        `${act.counted_orders} · ${t("invites")}: ${act.invites} ${t("in_days", { days: x.window_days })}`),
      x.next ? nextTier(x.next, act, cur) : h("p", {}, t("top_tier")));
  });
  const rewards = card(t("my_rewards"), () => api(`/members/${id}/rewards`), (r, refresh) => {
    const unit = h("select", { id: "redeem-unit", "aria-label": t("unit") },
      ["points", "credit"].map((u) => h("option", { value: u }, t(u))));
    const amount = h("input", { id: "redeem-amount", type: "number", min: "1", step: "1", "aria-label": t("amount"),
      placeholder: t("amount") });
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const res = await api(`/members/${id}/redemptions`, { method: "POST", body: {
          redemption_id: `web-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, unit: unit.value,
          amount: parseInt(amount.value, 10) } });
        toast(res.coupon ? `${t("coupon")}: ${res.coupon.code}` : t("saved"));
        refresh();
      } catch (e) { toast(errorText(e)); }
    } }, unit, amount, h("button", { type: "submit", id: "redeem" }, t("redeem")));
    const worth = r.point_value ? h("p", { class: "muted", id: "point-worth" },
      t("point_worth", { value: money(r.point_value.minor, r.point_value.currency) })) : null;
    const amountOf = (x) => (x.unit === "credit" && r.point_value
      ? money(x.base_amount, r.point_value.currency) : `${x.base_amount} ${t(x.unit)}`);
    return h("div", {},
      h("p", { id: "balance" }, `${t("points")}: `, h("b", { "data-unit": "points" }, r.available.points),
        ` · ${t("credit")}: `, h("b", { "data-unit": "credit" }, r.available.credit)),
      worth, form,
      h("h3", {}, t("friends")),
      r.rewards.length ? table([
        [t("friend"), (x) => h("span", { class: "friend" }, x.friend || "—")], [t("status"), (x) => pill(x.state)],
        [t("amount"), amountOf, true],
        ["", (x) => x.reason ? (x.reason.code && t(`why_${x.reason.code}`) !== `why_${x.reason.code}`
          ? t(`why_${x.reason.code}`) : x.reason.message) : ""],
      ], r.rewards) : h("p", { class: "state empty" }, t("no_friends")),
      h("h3", {}, t("coupons")),
      r.coupons.length ? table([
        [t("coupon"), (c) => h("code", {}, c.code)], [t("amount"), (c) => money(c.value_minor, c.currency), true],
        [t("min_order"), (c) => (c.min_order_minor ? money(c.min_order_minor, c.currency) : "—"), true],
        [t("expires"), (c) => h("span", { "data-expires": c.expires_at }, dateLabel(c.expires_at))],
        [t("status"), (c) => pill(c.used_by_order ? "used" : (c.expires_at && new Date(c.expires_at) < new Date()
          ? "expired" : "available"))],
      ], r.coupons) : h("p", { class: "state empty" }, t("no_coupons")));
  }, { wide: true });
  main.replaceChildren(h("h1", {}, t("nav_member")), h("div", { class: "grid" }, invite, tier, rewards));
}

// The way to the next tier: a bar for spend (the figures in words beside it), and the orders.
// Spend so far over spend so far plus what is still needed: the next tier's threshold, in minor units.
function nextTier(next, act, cur) {
  const goal = act.spend_minor + next.spend_minor_needed;
  const value = Math.min(act.spend_minor, goal);
  const words = t("next_tier_progress", { tier: t(next.tier), spent: money(act.spend_minor, cur), goal: money(goal, cur) });
  return h("div", { id: "next-tier" },
    h("label", { for: "tier-progress" }, words),
    h("progress", { id: "tier-progress", max: String(Math.max(goal, 1)), value: String(value) },
      `${money(act.spend_minor, cur)} / ${money(goal, cur)}`),
    h("p", {}, t("next_tier_member", { tier: t(next.tier), spend: money(next.spend_minor_needed, cur),
      orders: next.orders_needed }) + (next.either_is_enough ? ` (${t("either")})` : "")));
}
