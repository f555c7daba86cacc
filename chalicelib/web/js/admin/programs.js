// Member reward programs and their tier programs: the versions, and forms that publish the next
// version (POST /admin/reward-programs takes both; each form carries over what the other edits).
import { api, card, errorText, h, money, pill, t, table, toast } from "../core.js";
import { CURRENCIES, fromMinor, pct, pctText, toBps, toMinor } from "./units.js";

const TIERS = ["normal", "bronze", "silver", "gold"];

export function render() {
  const forms = h("div", { class: "grid-span" }, h("p", { class: "state loading" }, t("loading")));
  const versions = card(t("reward_programs"), () => api("/admin/reward-programs"), (d) => {
    const latest = d.programs.slice(-1)[0] || null;
    forms.replaceChildren(h("div", { class: "grid" }, rewardForm(latest, () => versions.refresh()),
      tierForm(latest, () => versions.refresh())));
    return d.programs.length ? h("div", {}, table([
      [t("version"), (p) => p.version], [t("effective_from"), (p) => p.effective_from.slice(0, 16).replace("T", " ")],
      [t("friend_reward"), (p) => reward(p.friend_reward, p.currency)],
      [t("advocate_reward"), (p) => reward(p.advocate_reward, p.currency)],
      [t("min_order"), (p) => money(p.min_order_minor, p.currency), true],
      [t("caps"), (p) => `${p.cap_per_month} / ${p.cap_per_year}`],
    ], d.programs.slice().reverse(), (p) => ({ "data-version": p.version })),
    h("h3", {}, t("tier_programs")),
    table([
      [t("version"), (p) => p.version],
      ...TIERS.map((tier, i) => [t(tier), (p) => tierRule(p.tiers.rules[i], p.currency)]),
      [t("window_days"), (p) => p.tiers.window_days, true],
    ], d.programs.slice().reverse(), (p) => ({ "data-tier-version": p.version }))) : null;
  }, { wide: true });
  return [versions, forms];
}

const reward = (r, currency) => (r.kind === "points" ? `${r.amount} ${t("points")}`
  : `${money(r.amount, currency)} ${t(`kind_${r.kind}`)}`);
const tierRule = (r, currency) => (r ? `≥ ${money(r.min_spend_minor, currency)} · ${r.min_orders} ${t("orders")} · −${pct(r.discount_bps)}` : "—");

function field(label, input) { return h("label", { class: "field" }, label, input); }

// The fields the API takes, from a program as GET /admin/reward-programs shows it (to carry over).
function body(p) {
  if (!p) return {};
  const rest = { ...p };
  delete rest.version;
  delete rest.effective_from;  // a new version takes effect now
  return rest;
}

function publishing(msg, done) {
  return async (program) => {
    msg.className = "state";
    try {
      const made = await api("/admin/reward-programs", { method: "POST", body: program });
      toast(t("program_published", { version: made.version }));
      done();
    } catch (e) {
      msg.className = "state error";
      msg.replaceChildren(h("span", {}, errorText(e)), errorText(e) !== e.message ? h("small", { class: "muted" }, ` (${e.message})`) : null);
    }
  };
}

function amountInput(id, minor, currency) {
  return h("input", { id, inputmode: "decimal", autocomplete: "off", value: fromMinor(minor, currency) });
}

function rewardForm(latest, done) {
  const p = latest || { currency: "USD", friend_reward: { kind: "coupon", amount: 1000 },
    advocate_reward: { kind: "points", amount: 1000 }, min_order_minor: 2000, holding_days: 30,
    expiry_days: 365, cap_per_month: 5, cap_per_year: 20 };
  const currency = h("select", { id: "rp-currency" }, CURRENCIES.map((c) => h("option", { value: c, selected: c === p.currency }, c)));
  const kind = (id, kinds, r) => h("select", { id }, kinds.map((k) => h("option", { value: k, selected: k === r.kind }, t(`kind_${k}`))));
  const amount = (r, id) => h("input", { id, inputmode: "decimal", autocomplete: "off",
    value: r.kind === "points" ? String(r.amount) : fromMinor(r.amount, p.currency) });
  const f = {
    friendKind: kind("rp-friend-kind", ["coupon", "credit", "points"], p.friend_reward),
    friend: amount(p.friend_reward, "rp-friend-amount"),
    advocateKind: kind("rp-advocate-kind", ["points", "credit"], p.advocate_reward),
    advocate: amount(p.advocate_reward, "rp-advocate-amount"),
    minOrder: amountInput("rp-min-order", p.min_order_minor, p.currency),
    holding: h("input", { id: "rp-holding", inputmode: "numeric", value: String(p.holding_days) }),
    expiry: h("input", { id: "rp-expiry", inputmode: "numeric", value: String(p.expiry_days) }),
    month: h("input", { id: "rp-cap-month", inputmode: "numeric", value: String(p.cap_per_month) }),
    year: h("input", { id: "rp-cap-year", inputmode: "numeric", value: String(p.cap_per_year) }),
  };
  const msg = h("div", { class: "state", role: "alert", id: "rp-error" });
  const send = publishing(msg, done);
  const whole = (el) => { if (!/^\d{1,9}$/.test(el.value.trim())) throw Object.assign(new Error("whole_number"), { el }); return Number(el.value.trim()); };
  const rewardOf = (kindEl, el) => ({ kind: kindEl.value, amount: kindEl.value === "points" ? whole(el)
    : (() => { try { return toMinor(el.value, currency.value); } catch (e) { throw Object.assign(e, { el }); } })() });
  const form = h("form", { class: "stack", novalidate: true, onsubmit: (ev) => {
    ev.preventDefault();
    let program;
    try {
      program = { ...body(latest), currency: currency.value,
        friend_reward: rewardOf(f.friendKind, f.friend), advocate_reward: rewardOf(f.advocateKind, f.advocate),
        min_order_minor: (() => { try { return toMinor(f.minOrder.value, currency.value); } catch (e) { throw Object.assign(e, { el: f.minOrder }); } })(),
        holding_days: whole(f.holding), expiry_days: whole(f.expiry), cap_per_month: whole(f.month), cap_per_year: whole(f.year) };
    } catch (e) { msg.className = "state error"; msg.textContent = t(e.message, { currency: currency.value }); if (e.el) e.el.focus(); return; }
    send(program);
  } },
  field(t("currency"), currency),
  h("div", { class: "row" }, field(t("friend_reward"), f.friendKind), field(t("amount"), f.friend)),
  h("div", { class: "row" }, field(t("advocate_reward"), f.advocateKind), field(t("amount"), f.advocate)),
  field(t("min_order"), f.minOrder), field(t("holding_days"), f.holding), field(t("expiry_days"), f.expiry),
  h("div", { class: "row" }, field(t("cap_month"), f.month), field(t("cap_year"), f.year)),
  msg, h("button", { type: "submit", id: "rp-publish" }, t("publish_program")));
  return h("section", { class: "card", "aria-label": t("publish_program") }, h("h2", {}, t("publish_program")),
    h("p", { class: "muted" }, t("amounts_in_units")), form);
}

function tierForm(latest, done) {
  const currency = latest ? latest.currency : "USD";
  const rules = latest ? latest.tiers.rules : TIERS.map((tier) => ({ tier, min_spend_minor: 0, min_orders: 0,
    discount_bps: 0, advocate_multiplier_bps: 10000 }));
  const rows = rules.map((r) => ({
    tier: r.tier,
    spend: h("input", { id: `tier-${r.tier}-spend`, inputmode: "decimal", "aria-label": `${t(r.tier)} ${t("min_spend")}`,
      value: fromMinor(r.min_spend_minor, currency) }),
    orders: h("input", { id: `tier-${r.tier}-orders`, inputmode: "numeric", "aria-label": `${t(r.tier)} ${t("min_orders")}`,
      value: String(r.min_orders) }),
    discount: h("input", { id: `tier-${r.tier}-discount`, inputmode: "decimal", "aria-label": `${t(r.tier)} ${t("discount_pct")}`,
      value: pctText(r.discount_bps) }),
    multiplier: h("input", { id: `tier-${r.tier}-multiplier`, inputmode: "decimal", "aria-label": `${t(r.tier)} ${t("multiplier_pct")}`,
      value: pctText(r.advocate_multiplier_bps) }),
  }));
  const tiers = latest ? latest.tiers : { window_days: 30, invite_weight: 1, grace_months: 1, require_both: false };
  const windowDays = h("input", { id: "tier-window", inputmode: "numeric", value: String(tiers.window_days) });
  const grace = h("input", { id: "tier-grace", inputmode: "numeric", value: String(tiers.grace_months) });
  const both = h("input", { id: "tier-both", type: "checkbox", checked: tiers.require_both });
  const msg = h("div", { class: "state", role: "alert", id: "tier-error" });
  const send = publishing(msg, done);
  const form = h("form", { class: "stack", novalidate: true, onsubmit: (ev) => {
    ev.preventDefault();
    let program;
    try {
      const num = (el) => { if (!/^\d{1,9}$/.test(el.value.trim())) throw Object.assign(new Error("whole_number"), { el }); return Number(el.value.trim()); };
      const wrap = (el, f) => { try { return f(); } catch (e) { throw Object.assign(e, { el }); } };
      // The multiplier may exceed 100 % (an advocate earning double); a basis point is 0.01 %.
      const mult = (el) => wrap(el, () => toBpsWide(el.value));
      program = { ...body(latest), tiers: {
        rules: rows.map((r) => ({ tier: r.tier, min_spend_minor: wrap(r.spend, () => toMinor(r.spend.value, currency)),
          min_orders: num(r.orders), discount_bps: wrap(r.discount, () => toBps(r.discount.value)),
          advocate_multiplier_bps: mult(r.multiplier) })),
        window_days: num(windowDays), invite_weight: tiers.invite_weight, grace_months: num(grace), require_both: both.checked,
      } };
    } catch (e) { msg.className = "state error"; msg.textContent = t(e.message, { currency }); if (e.el) e.el.focus(); return; }
    send(program);
  } },
  h("p", { class: "muted" }, t("tiers_help", { currency })),
  table([
    [t("tier"), (r) => pill(r.tier)], [t("min_spend"), (r) => r.spend], [t("min_orders"), (r) => r.orders],
    [t("discount_pct"), (r) => r.discount], [t("multiplier_pct"), (r) => r.multiplier],
  ], rows),
  h("div", { class: "row" }, field(t("window_days"), windowDays), field(t("grace_months"), grace)),
  h("label", { class: "check" }, both, ` ${t("require_both")}`),
  msg, h("button", { type: "submit", id: "tier-publish" }, t("publish_tiers")));
  return h("section", { class: "card wide", "aria-label": t("publish_tiers") }, h("h2", {}, t("publish_tiers")), form);
}

// A multiplier in percent (up to 1000 %), exactly to basis points.
function toBpsWide(text) {
  const m = /^(\d{1,4})(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  if (!m) throw new RangeError("rate_invalid");
  const bps = Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
  if (bps > 100000) throw new RangeError("rate_invalid");
  return bps;
}
