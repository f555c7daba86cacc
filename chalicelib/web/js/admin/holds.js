// The held-order queue (the fraud queue): each hold's reasons, released or rejected with a reason.
import { api, card, dialog, errorText, h, has, money, pill, t, table, toast } from "../core.js";

// A reason in the reader's language when the catalogue knows its code, else the server's words.
const reasonText = (d) => (has(`hold_reason_${d.code}`) ? t(`hold_reason_${d.code}`) : d.text);

export function render() {
  const status = h("select", { id: "hold-status", "aria-label": t("status") },
    ["held", "released", "rejected", ""].map((s) => h("option", { value: s }, s ? t(`hold_${s}`) : t("all"))));
  const queue = card(t("held_orders"), () => api(`/admin/holds${status.value ? `?status=${status.value}` : ""}`),
    (d, refresh) => h("div", {},
      h("div", { class: "row" }, h("label", { class: "field" }, t("status"), status)),
      d.holds.length ? table([
        [t("order"), (x) => h("code", {}, x.order_id)],
        [t("partner"), (x) => x.partner_id],
        [t("amount"), (x) => (x.amount_minor == null ? "—" : money(x.amount_minor, x.currency)), true],
        [t("held_at"), (x) => (x.held_at || "").slice(0, 16).replace("T", " ")],
        [t("hold_reasons"), (x) => h("ul", { class: "reasons" },
          (x.reason_details || []).map((r) => h("li", { "data-reason": r.code }, reasonText(r))))],
        [t("status"), (x) => h("span", {}, pill(x.status),
          x.review_reason ? h("small", { class: "muted review-reason" }, ` ${x.review_reason}`) : null)],
        ["", (x) => (x.status === "held" ? h("div", { class: "row actions" },
          h("button", { class: "secondary", onclick: () => decide(x, "release", refresh) }, t("release")),
          h("button", { class: "danger", onclick: () => decide(x, "reject", refresh) }, t("reject"))) : "")],
      ], d.holds, (x) => ({ "data-order": x.order_id })) : h("p", { class: "state empty" }, t("no_holds"))),
    { wide: true });
  status.addEventListener("change", () => queue.refresh());
  return [queue];
}

async function decide(hold, action, refresh) {
  const asked = await dialog({
    title: t(`${action}_title`, { order: hold.order_id }),
    body: t(`${action}_help`),
    requireReason: true,
    confirmLabel: t(action),
  });
  if (!asked) return;
  try {
    await api(`/admin/holds/${encodeURIComponent(hold.order_id)}/${action}`, { method: "POST",
      body: { reason: asked.reason } });
    toast(t(action === "release" ? "released_toast" : "rejected_toast"));
    refresh();
  } catch (e) { toast(errorText(e)); refresh(); }
}
