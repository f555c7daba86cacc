// Partners: search, status and moves in the tree, enrolment, and targets in currency units.
import { api, card, dialog, errorText, h, money, periods, t, table, toast } from "../core.js";
import { CURRENCIES, toMinor } from "./units.js";

export function render() {
  return [search(), enrol(), targets()];
}

function search() {
  const q = h("input", { id: "q", type: "search", placeholder: t("search_partners"), "aria-label": t("search") });
  return card(t("search_partners"), () => api(`/admin/partners?q=${encodeURIComponent(q.value)}`), (d, refresh) =>
    h("div", {}, h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); refresh(); } }, q,
      h("button", { type: "submit" }, t("search"))),
    d.partners.length ? table([
      [t("partner"), (p) => `${p.partner_id} ${p.name}`], [t("code"), (p) => p.code],
      [t("sponsor"), (p) => p.sponsor_id || "—"], [t("rank"), (p) => t(p.rank)],
      [t("set_status"), (p) => h("select", { "aria-label": t("set_status"), onchange: async (ev) => {
        try { await api(`/admin/partners/${p.partner_id}/status`, { method: "POST", body: { status: ev.target.value } }); toast(t("saved")); }
        catch (e) { toast(errorText(e)); refresh(); }
      } }, ["active", "inactive", "terminated"].map((s) => h("option", { value: s, selected: s === p.status }, t(`status_${s}`))))],
      ["", (p) => h("button", { class: "secondary", "data-move": p.partner_id, onclick: () => move(p, refresh) }, t("move"))],
    ], d.partners, (p) => ({ "data-partner": p.partner_id })) : h("p", { class: "state empty" }, t("empty"))), { wide: true });
}

async function move(p, refresh) {
  const asked = await dialog({ title: t("move_title", { partner: p.partner_id }),
    body: t("move_help"), fields: [{ name: "sponsor", label: t("new_sponsor"), required: true }],
    confirmLabel: t("move") });
  if (!asked) return;
  if (!await dialog({ title: t("move"), body: t("confirm_move", { partner: p.partner_id, sponsor: asked.sponsor }),
    confirmLabel: t("move") })) return;
  try {
    const moved = await api(`/admin/partners/${p.partner_id}/move`, { method: "POST",
      body: { new_sponsor_code: asked.sponsor } });
    const when = (moved.scheduled || []).slice(-1)[0];
    toast(when ? t("move_scheduled", { at: when.effective_at.slice(0, 16).replace("T", " ") }) : t("saved"));
    refresh();
  } catch (e) { toast(errorText(e)); }
}

function field(label, input) { return h("label", { class: "field" }, label, input); }

function enrol() {
  const name = h("input", { id: "enrol-name", required: true, maxlength: "120", autocomplete: "off" });
  const code = h("input", { id: "enrol-code", pattern: "[A-Za-z0-9][A-Za-z0-9_\\-]{2,31}", autocomplete: "off" });
  const sponsor = h("input", { id: "enrol-sponsor", autocomplete: "off" });
  const email = h("input", { id: "enrol-email", type: "email", autocomplete: "off" });
  const msg = h("p", { class: "state", id: "enrol-result", role: "status" });
  const form = h("form", { class: "stack", onsubmit: async (ev) => {
    ev.preventDefault();
    msg.className = "state";
    const body = { name: name.value.trim() };
    if (code.value.trim()) body.code = code.value.trim();
    if (sponsor.value.trim()) body.sponsor_code = sponsor.value.trim();
    if (email.value.trim()) body.email = email.value.trim();
    try {
      const p = await api("/partners", { method: "POST", body });
      msg.textContent = t("enrolled", { partner: p.partner_id, code: p.code });
      form.reset();
    } catch (e) { msg.className = "state error"; msg.textContent = errorText(e); }
  } }, field(t("name"), name), field(t("partner_code_optional"), code),
    field(t("sponsor_code_optional"), sponsor), field(t("email_optional"), email),
    h("button", { type: "submit", id: "enrol" }, t("enrol")), msg);
  return h("section", { class: "card", "aria-label": t("enrol_partner") }, h("h2", {}, t("enrol_partner")), form);
}

// A partner's overachievement target, typed in currency units (the bonus currency of the plan in
// force), converted exactly to the minor units the API stores.
function targets() {
  const who = h("input", { id: "target-partner", placeholder: "P-…", required: true, autocomplete: "off" });
  const per = h("select", { id: "target-period" }, periods(3).map((p) => h("option", { value: p }, p)));
  const currency = h("select", { id: "target-currency" }, CURRENCIES.map((c) => h("option", { value: c }, c)));
  const amount = h("input", { id: "target-amount", inputmode: "decimal", required: true, autocomplete: "off",
    placeholder: "1000.00" });
  const msg = h("p", { class: "state", id: "target-result", role: "status" });
  api("/admin/plans").then((d) => {
    const bonus = (d.plans.slice(-1)[0] || {}).bonus;
    if (bonus && bonus.currency) currency.value = bonus.currency;
  }).catch(() => {});
  const form = h("form", { class: "stack", onsubmit: async (ev) => {
    ev.preventDefault();
    msg.className = "state";
    let minor;
    try { minor = toMinor(amount.value, currency.value); }
    catch (e) { msg.className = "state error"; msg.textContent = t(e.message, { currency: currency.value }); return; }
    try {
      await api(`/admin/partners/${encodeURIComponent(who.value.trim())}/targets/${per.value}`, { method: "PUT",
        body: { target_minor: minor } });
      msg.textContent = t("target_saved", { partner: who.value.trim(), period: per.value,
        amount: money(minor, currency.value) });
    } catch (e) { msg.className = "state error"; msg.textContent = errorText(e); }
  } }, field(t("partner"), who), field(t("period"), per),
    h("div", { class: "row" }, field(t("target_amount"), amount), field(t("currency"), currency)),
    h("button", { type: "submit", id: "set-target" }, t("set_target")), msg);
  return h("section", { class: "card", "aria-label": t("targets") }, h("h2", {}, t("targets")),
    h("p", { class: "muted" }, t("targets_help")), form);
}
