// Connected shops and outbound webhooks (their cards as they were on the admin page).
import { api, card, dialog, errorText, h, pill, t, table, toast } from "../core.js";

export function render() {
  return [shopsCard(), outboundCard()];
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
