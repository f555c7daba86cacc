// The admin screens: partners, plans, targets, connected shops and outbound webhooks.
import { addCatalogue, api, card, dialog, errorText, h, periods, pill, t, table, toast } from "../core.js";
import labels from "../i18n/admin.js";

addCatalogue(labels, "admin");

export function render(main) {
  const q = h("input", { id: "q", type: "search", placeholder: t("search_partners"), "aria-label": t("search") });
  const partners = card(t("search_partners"), () => api(`/admin/partners?q=${encodeURIComponent(q.value)}`), (d, refresh) =>
    h("div", {}, h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); refresh(); } }, q,
      h("button", { type: "submit" }, t("search"))),
    d.partners.length ? table([
      [t("partner"), (p) => `${p.partner_id} ${p.name}`], [t("rank"), (p) => p.rank],
      [t("set_status"), (p) => h("select", { "aria-label": t("set_status"), onchange: async (ev) => {
        try { await api(`/admin/partners/${p.partner_id}/status`, { method: "POST", body: { status: ev.target.value } }); toast(t("saved")); }
        catch (e) { toast(errorText(e)); refresh(); }
      } }, ["active", "inactive", "terminated"].map((s) => h("option", { value: s, selected: s === p.status }, s)))],
      ["", (p) => h("button", { class: "secondary", onclick: async () => {
        const asked = await dialog({ title: t("move"), fields: [{ name: "sponsor", label: t("new_sponsor"), required: true }],
          confirmLabel: t("move") });
        if (!asked) return;
        const sponsor = asked.sponsor;
        if (!await dialog({ title: t("move"), body: t("confirm_move", { partner: p.partner_id, sponsor }),
          confirmLabel: t("move") })) return;
        try { await api(`/admin/partners/${p.partner_id}/move`, { method: "POST", body: { new_sponsor_code: sponsor } }); toast(t("saved")); refresh(); }
        catch (e) { toast(errorText(e)); }
      } }, t("move"))],
    ], d.partners) : h("p", { class: "state empty" }, t("empty"))), { wide: true });
  const plans = card(t("plans"), () => api("/admin/plans"), (d) => d.plans.length ? table([
    [t("version"), (p) => p.version], [t("effective_from"), (p) => p.effective_from.slice(0, 10)],
    [t("levels"), (p) => p.levels_bps.map((b) => `${b / 100}%`).join(" / ")],
    [t("bonuses"), (p) => p.bonus ? `${p.bonus.basis} · ${p.bonus.ladder.length} tiers` : "—"],
  ], d.plans.slice().reverse()) : null);
  const who = h("input", { id: "target-partner", placeholder: "P-…", "aria-label": t("partner") });
  const per = h("select", { "aria-label": t("period") }, periods(3).map((p) => h("option", { value: p }, p)));
  const amt = h("input", { type: "number", min: "0", step: "1", placeholder: t("amount") + " (minor units)",
    "aria-label": t("amount") });
  const targets = h("section", { class: "card" }, h("h2", {}, t("targets")), h("form", { class: "row", onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api(`/admin/partners/${who.value}/targets/${per.value}`, { method: "PUT", body: { target_minor: parseInt(amt.value, 10) } });
      toast(t("saved"));
    } catch (e) { toast(errorText(e)); }
  } }, who, per, amt, h("button", { type: "submit" }, t("set_target"))));
  main.replaceChildren(h("h1", {}, t("nav_admin")),
    h("div", { class: "grid" }, partners, plans, targets, shopsCard(), outboundCard()));
}

// The shops this deployment takes webhooks from (GET /admin/integrations): URL, configured or not.
function shopsCard() {
  return card(t("shops"), () => api("/admin/integrations"), (d) => table([
    [t("provider"), (p) => h("span", {}, p.title, h("br"),
      h("small", { class: "muted" }, `${t("subscribe")}: ${p.subscribe.join(", ")}`))],
    [t("webhook_url"), (p) => h("code", {}, location.origin + p.url)],
    [t("status"), (p) => h("span", { class: `pill ${p.configured ? "ok" : "warn"}` },
      p.configured ? t("configured") : t("not_configured"))],
    [t("settings_needed"), (p) => p.settings.join(", ")],
  ], d.providers), { wide: true });
}

// Outbound webhooks: the endpoints, a form to add one, and each endpoint's delivery log with a
// replay for a dead delivery.
function outboundCard() {
  const log = h("div", { class: "delivery-log" });
  const showLog = async (ep) => {
    log.replaceChildren(h("p", { class: "state loading" }, t("loading")));
    try {
      const d = await api(`/admin/webhooks/endpoints/${ep.endpoint_id}/deliveries`);
      log.replaceChildren(h("h3", {}, `${t("delivery_log")}: ${ep.url}`), d.deliveries.length ? table([
        [t("event"), (x) => x.event_type], ["", (x) => h("small", { class: "muted" }, x.event_id)],
        [t("status"), (x) => pill(x.status)], [t("attempts"), (x) => x.attempts, true],
        ["", (x) => x.status === "dead" ? h("button", { class: "secondary", onclick: async () => {
          try { await api(`/admin/webhooks/deliveries/${x.delivery_id}/replay`, { method: "POST" }); toast(t("replayed")); showLog(ep); }
          catch (e) { toast(errorText(e)); }
        } }, t("replay")) : ""],
      ], d.deliveries) : h("p", { class: "state empty" }, t("empty")));
    } catch (e) { log.replaceChildren(h("p", { class: "state error" }, `${t("error")}: ${errorText(e)}`)); }
  };
  return card(t("outbound"), () => api("/admin/webhooks/endpoints"), (d, refresh) => {
    const url = h("input", { type: "url", placeholder: "https://…", "aria-label": t("endpoint"), required: true });
    const boxes = d.event_types.map((e) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: e, checked: true }), ` ${e}`));
    const add = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      const events = boxes.map((b) => b.firstChild).filter((i) => i.checked).map((i) => i.value);
      try {
        const ep = await api("/admin/webhooks/endpoints", { method: "POST", body: { url: url.value, events } });
        await dialog({ title: t("add_endpoint"), body: t("secret_once", { secret: ep.secret }),
          confirmLabel: t("close"), cancelLabel: null });
        refresh();
      } catch (e) { toast(errorText(e)); }
    } }, url, h("fieldset", { class: "events" }, h("legend", {}, t("events")), ...boxes),
      h("button", { type: "submit" }, t("add_endpoint")));
    return h("div", {}, d.endpoints.length ? table([
      [t("endpoint"), (ep) => h("code", {}, ep.url)], [t("events"), (ep) => ep.events.join(", ")],
      [t("status"), (ep) => pill(ep.status)],
      ["", (ep) => h("button", { class: "secondary", onclick: () => showLog(ep) }, t("show_log"))],
      ["", (ep) => ep.status === "active" ? h("button", { class: "danger", onclick: async () => {
        try { await api(`/admin/webhooks/endpoints/${ep.endpoint_id}`, { method: "DELETE" }); toast(t("saved")); refresh(); }
        catch (e) { toast(errorText(e)); }
      } }, t("disable")) : ""],
    ], d.endpoints) : h("p", { class: "state empty" }, t("empty")), add, log);
  }, { wide: true });
}
