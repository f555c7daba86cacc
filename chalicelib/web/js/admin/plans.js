// Commission plans: the versions, and a form that publishes the next one, with validation messages
// shown inline and a what-if: the same sample order under the plan in force and the new plan, level
// by level (POST /admin/plans/preview prices both with the order path's own rule).
import { api, card, dialog, errorText, h, money, t, table, toast } from "../core.js";
import { CURRENCIES, fromMinor, pct, pctText, toBps, toMinor } from "./units.js";

export function render() {
  const holder = h("div", { class: "grid-span" }, h("p", { class: "state loading" }, t("loading")));
  const versions = card(t("plans"), () => api("/admin/plans"), (d) => {
    holder.replaceChildren(editor(d.plans.slice(-1)[0] || null, () => versions.refresh()));
    return d.plans.length ? table([
      [t("version"), (p) => p.version], [t("effective_from"), (p) => p.effective_from.slice(0, 16).replace("T", " ")],
      [t("levels"), (p) => p.levels_bps.map(pct).join(" / ")],
      [t("cap"), (p) => (p.cap_bps == null ? "—" : pct(p.cap_bps))],
      [t("holding_days"), (p) => p.holding_days, true],
      [t("bonuses"), (p) => (p.bonus ? `${p.bonus.currency} · ${t(p.bonus.basis)} · ${t("n_tiers", { n: p.bonus.ladder.length })}` : "—")],
    ], d.plans.slice().reverse()) : null;
  }, { wide: true });
  return [versions, holder];
}

function field(label, input, hint) {
  return h("label", { class: "field" }, label, input, hint ? h("small", { class: "muted" }, hint) : null);
}

// The plan the form describes, as POST /admin/plans takes it; throws {field, key} for what it refuses.
function readPlan(f, base) {
  const bad = (el, key, vars) => { const e = new Error(key); e.el = el; e.vars = vars; throw e; };
  const parts = f.levels.value.split(/[,/ ]+/).filter(Boolean);
  if (!parts.length) bad(f.levels, "levels_required");
  const levels_bps = parts.map((x) => { try { return toBps(x); } catch (e) { return bad(f.levels, "rate_invalid"); } });
  const plan = { levels_bps, holding_days: Number(f.holding.value) };
  if (!/^\d{1,3}$/.test(f.holding.value)) bad(f.holding, "whole_days");
  if (f.cap.value.trim()) { try { plan.cap_bps = toBps(f.cap.value); } catch (e) { bad(f.cap, "rate_invalid"); } }
  try { plan.min_payout_minor = toMinor(f.minPayout.value, f.currency.value); }
  catch (e) { bad(f.minPayout, e.message, { currency: f.currency.value }); }
  if (f.renewal.value.trim()) {
    if (!/^\d{1,3}$/.test(f.renewal.value.trim())) bad(f.renewal, "whole_months");
    plan.renewal_months = Number(f.renewal.value.trim());
  }
  if (f.effective.value) plan.effective_from = `${f.effective.value}:00Z`;  // typed in UTC
  if (base && f.keep.checked) {  // what the form does not edit, carried over from the plan in force
    if (base.bonus) plan.bonus = base.bonus;
    if (Object.keys(base.rank_overrides || {}).length) plan.rank_overrides = base.rank_overrides;
  }
  return plan;
}

function editor(base, published) {
  const f = {
    levels: h("input", { id: "plan-levels", required: true, autocomplete: "off", placeholder: "10, 5, 2",
      value: base ? base.levels_bps.map(pctText).join(", ") : "" }),
    cap: h("input", { id: "plan-cap", inputmode: "decimal", autocomplete: "off",
      value: base && base.cap_bps != null ? pctText(base.cap_bps) : "" }),
    holding: h("input", { id: "plan-holding", inputmode: "numeric", value: String(base ? base.holding_days : 30) }),
    currency: h("select", { id: "plan-currency" }, CURRENCIES.map((c) => h("option", { value: c }, c))),
    minPayout: h("input", { id: "plan-min-payout", inputmode: "decimal", autocomplete: "off" }),
    renewal: h("input", { id: "plan-renewal", inputmode: "numeric",
      value: base && base.renewal_months ? String(base.renewal_months) : "" }),
    effective: h("input", { id: "plan-effective", type: "datetime-local" }),
    keep: h("input", { id: "plan-keep", type: "checkbox", checked: true }),
  };
  if (base && base.bonus) f.currency.value = base.bonus.currency;
  f.minPayout.value = fromMinor(base ? base.min_payout_minor : 5000, f.currency.value);
  const sample = {
    amount: h("input", { id: "sample-amount", inputmode: "decimal", value: "100.00", autocomplete: "off" }),
    currency: h("select", { id: "sample-currency" }, CURRENCIES.map((c) => h("option", { value: c }, c))),
    partner: h("input", { id: "sample-partner", placeholder: "P-…", autocomplete: "off" }),
    depth: h("input", { id: "sample-depth", inputmode: "numeric", autocomplete: "off" }),
  };
  sample.currency.value = f.currency.value;
  const error = h("div", { class: "state error", role: "alert", id: "plan-error" });
  const result = h("div", { id: "whatif" }, h("p", { class: "state empty" }, t("what_if_none")));
  const fieldErrors = new Map();
  const clear = () => {
    error.replaceChildren();
    for (const [el, note] of fieldErrors) { el.removeAttribute("aria-invalid"); note.remove(); }
    fieldErrors.clear();
  };
  const showFieldError = (el, text) => {
    const note = h("small", { class: "field-error", role: "alert" }, text);
    el.setAttribute("aria-invalid", "true");
    el.after(note);
    fieldErrors.set(el, note);
  };
  // A server refusal: in the reader's language when the catalogue knows its code, always with the
  // server's own detail (which level, which limit) beside it.
  const showServer = (e) => {
    const said = errorText(e);
    error.replaceChildren(h("span", {}, said), said !== e.message ? h("small", { class: "muted" }, ` (${e.message})`) : null);
  };
  const plan = () => {
    try { return readPlan(f, base); } catch (e) {
      if (e.el) { showFieldError(e.el, t(e.message, e.vars)); e.el.focus(); return null; }
      throw e;
    }
  };

  const preview = async () => {
    clear();
    const p = plan();
    if (!p) return;
    const s = { currency: sample.currency.value };
    try { s.amount_minor = toMinor(sample.amount.value, s.currency); }
    catch (e) { showFieldError(sample.amount, t(e.message, { currency: s.currency })); return; }
    if (sample.partner.value.trim()) s.partner_id = sample.partner.value.trim();
    else if (sample.depth.value.trim()) s.depth = Number(sample.depth.value.trim());
    try {
      const d = await api("/admin/plans/preview", { method: "POST", body: { ...p, sample: s } });
      result.replaceChildren(whatIf(d));
    } catch (e) { showServer(e); result.replaceChildren(); }
  };

  const publish = async () => {
    clear();
    const p = plan();
    if (!p) return;
    const when = p.effective_from ? p.effective_from.slice(0, 16).replace("T", " ") + " UTC" : t("now");
    if (!await dialog({ title: t("publish_plan"), body: t("confirm_publish", { levels: p.levels_bps.map(pct).join(" / "), when }),
      confirmLabel: t("publish") })) return;
    try {
      const made = await api("/admin/plans", { method: "POST", body: p });
      toast(t("plan_published", { version: made.version }));
      published();
    } catch (e) { showServer(e); }
  };

  const carried = base && (base.bonus || Object.keys(base.rank_overrides || {}).length)
    ? h("label", { class: "check" }, f.keep, ` ${t("keep_rules", { version: base.version })}`) : null;
  return h("div", { class: "grid" },
    h("section", { class: "card", "aria-label": t("publish_plan") }, h("h2", {}, t("publish_plan")),
      h("form", { class: "stack", id: "plan-form", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); publish(); } },
        field(t("levels_pct"), f.levels, t("levels_hint")),
        field(t("cap_pct"), f.cap, t("cap_hint")),
        field(t("holding_days"), f.holding),
        h("div", { class: "row" }, field(t("min_payout"), f.minPayout), field(t("currency"), f.currency)),
        field(t("renewal_months"), f.renewal, t("renewal_hint")),
        field(t("effective_from_utc"), f.effective, t("effective_hint")),
        carried, error,
        h("div", { class: "row actions" },
          h("button", { type: "button", class: "secondary", id: "plan-preview", onclick: preview }, t("what_if")),
          h("button", { type: "submit", id: "plan-publish" }, t("publish"))))),
    h("section", { class: "card", "aria-label": t("what_if") }, h("h2", {}, t("what_if")),
      h("p", { class: "muted" }, t("what_if_help")),
      h("div", { class: "stack" },
        h("div", { class: "row" }, field(t("sample_amount"), sample.amount), field(t("currency"), sample.currency)),
        field(t("sample_partner"), sample.partner, t("sample_partner_hint")),
        field(t("sample_depth"), sample.depth),
        h("div", { class: "row actions" },
          h("button", { type: "button", class: "secondary", onclick: preview }, t("what_if"))))),
    h("section", { class: "card wide", "aria-label": t("what_if_result") }, result));
}

function whatIf(d) {
  const amount = (line) => (line ? money(line.amount_minor, d.currency) : "—");
  const rate = (line) => (line && line.rate_bps != null ? pct(line.rate_bps) : "—");
  const delta = (r) => {
    const diff = (r.candidate ? r.candidate.amount_minor : 0) - (r.current ? r.current.amount_minor : 0);
    return diff === 0 ? "±0" : (diff > 0 ? "+" : "−") + money(Math.abs(diff), d.currency);
  };
  const who = (r) => (r.candidate || r.current || {}).partner_id || "—";
  return h("div", {},
    h("p", {}, t("what_if_for", { amount: money(d.amount_minor, d.currency),
      current: d.current_version == null ? t("no_plan") : `v${d.current_version}` })),
    table([
      [t("level"), (r) => r.level, true], [t("partner"), who],
      [t("current_rate"), (r) => rate(r.current), true], [t("current_pays"), (r) => amount(r.current), true],
      [t("new_rate"), (r) => rate(r.candidate), true], [t("new_pays"), (r) => amount(r.candidate), true],
      [t("difference"), delta, true],
    ], d.levels.concat([{
      level: t("total"),
      current: { rate_bps: null, amount_minor: d.current_total_minor },
      candidate: { rate_bps: null, amount_minor: d.candidate_total_minor },
    }]), (r) => ({ "data-level": typeof r.level === "number" ? r.level : "total" })),
  );
}
