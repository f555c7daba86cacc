// The audit log: one UTC day, filtered by actor and action (or a family: "partner" for partner.*),
// read page by page with the server's opaque cursor.
import { api, errorText, h, pill, t, table } from "../core.js";

const FAMILIES = ["plan", "partner", "target", "hold", "settlement", "export", "payout", "webhook", "reward"];

export function render() {
  const today = new Date().toISOString().slice(0, 10);
  const day = h("input", { id: "audit-day", type: "date", value: today, required: true });
  const actor = h("input", { id: "audit-actor", type: "text", autocomplete: "off", placeholder: "alice" });
  const action = h("input", { id: "audit-action", type: "text", list: "audit-actions", autocomplete: "off",
    placeholder: "partner.move" });
  const families = h("datalist", { id: "audit-actions" }, FAMILIES.map((f) => h("option", { value: f })));
  const rows = h("div", { id: "audit-records" });
  const more = h("button", { type: "button", id: "audit-more", class: "secondary", hidden: true }, t("more"));
  const error = h("p", { class: "state error", role: "alert", id: "audit-error" });
  let cursor = null;
  let records = [];

  const draw = () => rows.replaceChildren(records.length ? table([
    [t("time"), (r) => r.at.slice(11, 19)],
    [t("actor"), (r) => h("span", {}, r.actor, " ", h("small", { class: "muted" }, r.role))],
    [t("action"), (r) => h("code", {}, r.action)],
    [t("audit_target"), (r) => r.target],
    [t("outcome"), (r) => pill(r.outcome)],
    [t("audit_change"), (r) => h("details", {}, h("summary", {}, t("before_after")),
      h("pre", {}, `${t("before")}: ${JSON.stringify(r.before, null, 1)}\n${t("after")}: ${JSON.stringify(r.after, null, 1)}`))],
  ], records, (r) => ({ "data-action": r.action })) : h("p", { class: "state empty" }, t("no_records")));

  const load = async (more_) => {
    error.textContent = "";
    const q = new URLSearchParams({ day: day.value, limit: "50" });
    if (actor.value.trim()) q.set("actor", actor.value.trim());
    if (action.value.trim()) q.set("action", action.value.trim());
    if (more_ && cursor) q.set("cursor", cursor);
    try {
      const d = await api(`/admin/audit?${q}`);
      records = more_ ? records.concat(d.records) : d.records;
      cursor = d.next_cursor;
      more.hidden = !cursor;
      draw();
    } catch (e) { error.textContent = errorText(e); }
  };
  more.addEventListener("click", () => load(true));
  const form = h("form", { class: "row filters", onsubmit: (ev) => { ev.preventDefault(); load(false); } },
    h("label", { class: "field" }, t("day"), day),
    h("label", { class: "field" }, t("actor"), actor),
    h("label", { class: "field" }, t("action"), action, families),
    h("button", { type: "submit", id: "audit-filter" }, t("filter")));
  load(false);
  return [h("section", { class: "card wide", "aria-label": t("audit_log") }, h("h2", {}, t("audit_log")),
    h("p", { class: "muted" }, t("audit_help")), form, error, rows, more)];
}
