// The finance console: settlement runs, batches (maker-checker), exports and payout bounces.
import { addCatalogue, api, card, dialog, errorText, fetchDownload, h, money, periods, pill, t, table, toast } from "../core.js";
import labels from "../i18n/finance.js";

addCatalogue(labels, "finance");

const download = (period, name) => fetchDownload(`/settlements/${period}/exports/${name}/content`,
  `${period}-${name}.${name === "json" ? "json" : "csv"}`);

export function render(main) {
  const detail = h("div", { id: "batch-detail" });
  const periodInput = h("select", { id: "run-period", "aria-label": t("period") },
    periods(12).slice(1).map((p) => h("option", { value: p }, p)));
  const runResult = h("div", {});
  const run = async (dry) => {
    runResult.replaceChildren(h("p", { class: "state loading" }, t("loading")));
    try {
      const r = await api("/settlements/run", { method: "POST", body: { period: periodInput.value, dry_run: dry } });
      runResult.replaceChildren(h("p", {}, dry ? `${t("dry_run")}: ${r.lines.length} ${t("lines")}` : pill(r.status)));
      if (!dry) { batches.refresh(); showBatch(periodInput.value); }
    } catch (e) { runResult.replaceChildren(h("p", { class: "state error" }, errorText(e))); }
  };
  const runner = h("section", { class: "card" }, h("h2", {}, t("run_settlement")),
    h("div", { class: "row" }, periodInput,
      h("button", { class: "secondary", id: "dry-run", onclick: () => run(true) }, t("dry_run")),
      h("button", { id: "run", onclick: () => run(false) }, t("run"))), runResult);
  const batches = card(t("batches"), () => api("/settlements"), (d) => d.batches.length ? table([
    [t("period"), (b) => h("a", { href: `#/finance/${b.period}`, class: "batch-link" }, b.period)],
    [t("status"), (b) => pill(b.status)],
    [t("control_totals"), (b) => Object.entries(b.control || {}).map(([c, x]) =>
      `${money(x.payout_minor, c)} (${x.payouts})`).join(" · ") || "—"],
    [t("reconciliation"), (b) => b.reconciliation ? pill(b.reconciliation.ok ? "ok" : "failed") : "—"],
  ], d.batches) : null, { empty: "no_batches" });
  const showBatch = (period) => {
    detail.replaceChildren(card(`${t("batches")} ${period}`, () => api(`/settlements/${period}`), (d, refresh) => {
      const b = d.batch;
      const act = async (path, body) => {
        try { await api(path, { method: "POST", body: body || {} }); toast(t("saved")); refresh(); batches.refresh(); }
        catch (e) { toast(errorText(e)); detail.querySelector(".action-error").textContent = errorText(e); }
      };
      const entries = h("div", { id: "entries" });
      return h("div", {},
        h("p", {}, pill(b.status), ` ${t("created_by")}: ${b.created_by}`,
          b.approved_by ? ` · ${t("approved_by")}: ${b.approved_by}` : ""),
        h("p", {}, `${t("reconciliation")}: `, pill(!b.reconciliation ? b.status : b.reconciliation.ok ? "ok" : "failed"),
          " ", b.reconciliation && b.reconciliation.ok ? t("reconciled") : (b.reconciliation ? b.reconciliation.problems.join("; ") : "")),
        h("div", { class: "row" },
          h("button", { id: "approve", disabled: b.status !== "draft", onclick: () => act(`/settlements/${period}/approve`) }, t("approve")),
          h("button", { id: "mark-paid", class: "secondary", disabled: b.status !== "approved",
            onclick: () => act(`/settlements/${period}/paid`) }, t("mark_paid")),
          ...Object.keys(b.exports || {}).concat(b.payout_file ? ["payouts"] : []).map((name) =>
            h("button", { class: "secondary", "data-export": name, onclick: () => download(period, name) },
              `${t("download")} ${name}`))),
        h("p", { class: "state error action-error", role: "alert" }),
        table([
          [t("partner"), (l) => h("a", { href: "#", onclick: async (ev) => {
            ev.preventDefault();
            entries.replaceChildren(h("p", { class: "state loading" }, t("loading")));
            try {
              const e = await api(`/settlements/${period}/lines/${l.partner_id}/entries`);
              entries.replaceChildren(h("h2", {}, `${t("entries")}: ${l.partner_id}`), table([
                [t("kind"), (x) => x.kind], ["", (x) => x.entry_id],
                [t("amount"), (x) => money(x.amount_minor, x.currency), true],
                [t("trace"), (x) => x.trace ? h("pre", { class: "trace" }, JSON.stringify(x.trace, null, 1)) : ""],
              ], e.entries));
            } catch (err) { entries.replaceChildren(h("p", { class: "state error" }, errorText(err))); }
          } }, `${l.partner_id} ${l.partner_name || ""}`)],
          [t("commissions"), (l) => money(l.commissions_minor, l.currency), true],
          [t("bonuses"), (l) => money(l.bonuses_minor, l.currency), true],
          [t("clawbacks"), (l) => money(l.clawbacks_minor, l.currency), true],
          [t("adjustments"), (l) => h("span", { class: "adjustments" }, money(l.adjustments_minor, l.currency),
            ...(l.returns || []).map((r) => h("small", { class: "muted return-note" },
              ` ${t("returns")}: ${r.payout_id} (${r.reason || ""}; ${t("reported_by")} ${r.reported_by}, ` +
              `${t("confirmed_by")} ${r.confirmed_by})`))), true],
          [t("carried_in"), (l) => money(l.carried_in_minor, l.currency), true],
          [t("payout"), (l) => money(l.payout_minor, l.currency), true],
          [t("carried_out"), (l) => money(l.carried_out_minor, l.currency), true],
          [t("status"), (l) => {
            const path = `/settlements/${period}/payouts/${l.partner_id}/${l.currency}/failed`;
            const withReason = (suffix, label) => async () => {
              const asked = await dialog({ title: label, body: `${l.partner_id} · ${money(l.payout_minor, l.currency)}`,
                requireReason: true, confirmLabel: label });
              if (asked) act(path + suffix, { reason: asked.reason });
            };
            if (l.payout_status) return pill(l.payout_status);
            if (!(l.payout_minor > 0 && ["approved", "paid"].includes(b.status))) return pill(l.payout_minor > 0 ? b.status : "carried");
            if (l.bounce_status === "reported") {  // a second finance user confirms it, or it is withdrawn
              return h("span", {}, pill("bounce_reported"), ` ${t("reported_by")} ${l.bounce_reported_by} `,
                h("button", { class: "danger", onclick: () => act(path + "/confirm") }, t("confirm_failed")),
                h("button", { class: "secondary", onclick: withReason("/dismiss", t("dismiss_failed")) }, t("dismiss_failed")));
            }
            return h("button", { class: "danger", onclick: withReason("", t("mark_failed")) }, t("mark_failed"));
          }],
        ], d.lines), entries);
    }, { wide: true }));
  };
  main.replaceChildren(h("h1", {}, t("nav_finance")), h("div", { class: "grid" }, runner, batches, detail));
  const m = location.hash.match(/^#\/finance\/(\d{4}-\d{2})$/);
  if (m) showBatch(m[1]);
}
