// The member's rewards page: invite, tier and rewards.
import { addCatalogue, S, api, card, errorText, h, money, pill, t, table, toast } from "../core.js";
import labels from "../i18n/member.js";

addCatalogue(labels, "member");

export function render(main) {
  const id = S.me.member_id;
  const invite = card(t("my_invite"), () => api(`/members/${id}`), (m) => {
    const url = `${location.origin}/i/${m.invite_code}`;
    return h("div", { id: "invite" }, h("p", {}, `${t("code")}: `, h("b", { id: "invite-code" }, m.invite_code)),
      h("div", { class: "row" }, h("a", { href: url, class: "link-url" }, url),
        h("button", { class: "secondary", onclick: async () => {
          try { await navigator.clipboard.writeText(url); toast(t("copied")); } catch (e) { toast(url); }
        } }, t("copy"))));
  });
  const tier = card(t("my_tier"), () => api(`/members/${id}/tier`), (x) => {
    const cur = x.activity.currency;
    return h("div", { id: "tier" },
      h("p", {}, pill(x.tier), ` ${t("discount")}: ${x.discount_bps / 100}%`),
      h("p", { class: "muted" }, `${t("spend")}: ${money(x.activity.spend_minor, cur)} · ${t("orders")}: ` +
        `${x.activity.counted_orders} · ${t("invites")}: ${x.activity.invites} (${x.window_days} d)`),
      x.next ? h("p", {}, t("next_tier_member", { tier: t(x.next.tier), spend: money(x.next.spend_minor_needed, cur),
        orders: x.next.orders_needed }) + (x.next.either_is_enough ? ` (${t("either")})` : ""))
        : h("p", {}, t("top_tier")));
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
    return h("div", {},
      h("p", { id: "balance" }, `${t("points")}: `, h("b", { "data-unit": "points" }, r.available.points),
        ` · ${t("credit")}: `, h("b", { "data-unit": "credit" }, r.available.credit)),
      form,
      r.rewards.length ? table([
        [t("friend"), (x) => x.friend_id], [t("status"), (x) => pill(x.state)],
        [t("amount"), (x) => `${x.base_amount} ${t(x.unit)}`, true],
        ["", (x) => x.reason ? x.reason.message : ""],
      ], r.rewards) : h("p", { class: "state empty" }, t("no_friends")),
      r.coupons.length ? table([[t("coupon"), (c) => c.code], [t("amount"), (c) => money(c.value_minor, c.currency), true],
        [t("status"), (c) => pill(c.used_by_order ? "used" : "available")]], r.coupons) : null);
  }, { wide: true });
  main.replaceChildren(h("h1", {}, t("nav_member")), h("div", { class: "grid" }, invite, tier, rewards));
}
