// The finance console: the periods (from the API), a period's preview with amounts or the reason it
// waits, a batch's totals, controls and checksums, its payout list (sort, filter, search, pages),
// the drill-down line → entries → order → plan rule, the comparison with the previous period, and
// the actions (approve, mark paid, payout failed, confirm bounce) each in a dialog with a reason.
import { S, addCatalogue, api, card, dialog, errorText, fetchDownload, h, has, money, pill, t, table, toast } from "../core.js";
import labels from "../i18n/finance.js";

addCatalogue(labels, "finance");

const download = (period, name) => fetchDownload(`/settlements/${period}/exports/${name}/content`,
  `${period}-${name}.${name === "json" ? "json" : "csv"}`);

const qs = (params) => {
  const out = Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined && v !== false)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return out.length ? `?${out.join("&")}` : "";
};

// An amount typed in major units ("1200.50") to minor units, by string: no float near money.
const toMinor = (text) => {
  const m = String(text || "").trim().match(/^(\d+)(?:\.(\d{1,2}))?$/);
  return m ? String(Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"))) : "";
};

// Why a period cannot be settled yet, in the reader's language (the server's sentence only for a
// reason this page has no words for).
const blockedText = (b) => (has("blocked_" + b.code) ? t("blocked_" + b.code) : b.message) +
  (b.until ? ` (${t("until")} ${new Date(b.until).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-US")})` : "");
const blockedNote = (b) => h("p", { class: "state error blocked", role: "status", "data-blocked": b.code },
  blockedText(b));

const totalsTable = (totals) => table([
  [t("currency"), ([c]) => c],
  [t("commissions"), ([c, x]) => money(x.commissions_minor, c), true],
  [t("bonuses"), ([c, x]) => money(x.bonuses_minor, c), true],
  [t("clawbacks"), ([c, x]) => money(x.clawbacks_minor, c), true],
  [t("adjustments"), ([c, x]) => money(x.adjustments_minor, c), true],
  [t("carried_in"), ([c, x]) => money(x.carried_in_minor, c), true],
  [t("carried_out"), ([c, x]) => money(x.carried_out_minor, c), true],
  [t("payout"), ([c, x]) => h("b", { "data-total": c }, money(x.payout_minor, c)), true],
  [t("lines"), ([, x]) => `${x.payouts} / ${x.lines}`, true],
], Object.entries(totals || {}));

export function render(main) {
  const view = h("div", { id: "period-view", class: "grid" });
  const periods = card(t("periods"), () => api("/settlements/periods"), (d) => d.periods.length ? table([
    [t("period"), (p) => h("a", { href: `#/finance/${p.period}`, class: "batch-link", "data-period": p.period }, p.period)],
    [t("status"), (p) => p.batch_status ? pill(p.batch_status) : (p.blocked ? pill("waiting") : pill("due"))],
    [t("why_waiting"), (p) => p.blocked ? blockedText(p.blocked) : ""],
  ], d.periods) : null, { empty: "no_periods", wide: true });
  main.replaceChildren(h("h1", {}, t("nav_finance")), h("div", { class: "grid" }, periods), view);

  const show = (period) => {
    view.replaceChildren(card(`${t("period")} ${period}`, async () => {
      const list = await api("/settlements");
      return list.batches.find((b) => b.period === period) || null;
    }, (b) => {
      const parts = b ? batchView(period, show, periods) : previewView(period, show, periods);
      view.replaceChildren(...parts);
      return h("span");
    }, { wide: true }));
  };
  const m = location.hash.match(/^#\/finance\/(\d{4}-\d{2})$/);
  if (m) show(m[1]);
}

// ---- a period not settled yet: the preview ------------------------------------------------------
function previewView(period, show, periods) {
  const out = h("p", {});
  const pv = card(`${t("preview")} ${period}`, () => api(`/settlements/${period}/preview`), (d) => {
    const settle = async () => {
      const asked = await dialog({ title: t("run"), body: t("run_confirm", { period }), confirmLabel: t("run") });
      if (!asked) return;
      out.replaceChildren(h("p", { class: "state loading" }, t("loading")));
      try {
        await api("/settlements/run", { method: "POST", body: { period } });
        toast(t("saved")); periods.refresh(); show(period);
      } catch (e) { out.replaceChildren(h("p", { class: "state error action-error", role: "alert" }, errorText(e))); }
    };
    return h("div", { id: "preview" },
      d.blocked ? blockedNote(d.blocked) : h("p", { class: "state" }, t("can_settle")),
      d.lines && d.lines.length ? [
        h("h3", {}, t("totals")), totalsTable(d.totals),
        h("h3", {}, t("lines")),
        table([
          [t("partner"), (l) => `${l.partner_id} ${l.partner_name || ""}`],
          [t("commissions"), (l) => money(l.commissions_minor, l.currency), true],
          [t("bonuses"), (l) => money(l.bonuses_minor, l.currency), true],
          [t("clawbacks"), (l) => money(l.clawbacks_minor, l.currency), true],
          [t("carried_in"), (l) => money(l.carried_in_minor, l.currency), true],
          [t("payout"), (l) => money(l.payout_minor, l.currency), true],
          [t("carried_out"), (l) => money(l.carried_out_minor, l.currency), true],
        ], d.lines)] : h("p", { class: "state empty" }, t("no_lines")),
      h("div", { class: "row" },
        h("button", { id: "run", disabled: Boolean(d.blocked), onclick: settle }, t("run"))),
      out);
  }, { wide: true });
  return [pv];
}

// ---- a batch: totals, actions, comparison, payouts, drill-down -----------------------------------
function batchView(period, show, periods) {
  const drill = h("section", { class: "card wide", id: "drill", "aria-live": "polite", hidden: true });
  const actionError = h("p", { class: "state error action-error", role: "alert" });
  let payouts;
  const act = async (path, body) => {
    actionError.textContent = "";
    try {
      await api(path, { method: "POST", body: body || {} });
      toast(t("saved")); summary.refresh(); payouts.refresh(); periods.refresh();
    } catch (e) { actionError.textContent = errorText(e); toast(errorText(e)); }
  };
  const ask = async (title, body, path, requireReason = true) => {
    const asked = await dialog({ title, body, requireReason, confirmLabel: title });
    if (asked) await act(path, requireReason ? { reason: asked.reason } : {});
  };

  const summary = card(t("batch_totals"), () => api(`/settlements/${period}/summary`), (s) => {
    const verified = h("div", { id: "verify-result", "aria-live": "polite" });
    const verify = async () => {
      verified.replaceChildren(h("p", { class: "state loading" }, t("loading")));
      try {
        const r = await api(`/settlements/${period}/exports/verify`, { method: "POST", body: {} });
        verified.replaceChildren(h("p", { class: r.ok ? "state" : "state error", "data-ok": String(r.ok) },
          r.ok ? t("exports_match") : `${t("exports_differ")}: ${r.differ.join(", ")}`));
      } catch (e) { verified.replaceChildren(h("p", { class: "state error" }, errorText(e))); }
    };
    const rec = s.reconciliation;
    return h("div", {},
      h("p", {}, pill(s.status), ` ${t("plan_version")} ${s.plan_version} · ${t("created_by")}: ${s.created_by}`,
        s.approved_by ? ` · ${t("approved_by")}: ${s.approved_by}` : ""),
      h("div", { class: "row" },
        h("button", { id: "approve", disabled: s.status !== "draft",
          onclick: () => ask(t("approve"), t("approve_help"), `/settlements/${period}/approve`) }, t("approve")),
        h("button", { id: "mark-paid", class: "secondary", disabled: s.status !== "approved",
          onclick: () => ask(t("mark_paid"), t("mark_paid_help"), `/settlements/${period}/paid`) }, t("mark_paid"))),
      actionError,
      totalsTable(s.totals),
      h("p", {}, `${t("reconciliation")}: `, pill(rec ? (rec.ok ? "reconciled" : "reconciliation_failed") : s.status), " ",
        rec && rec.ok ? t("reconciled") : (rec ? rec.problems.join("; ") : "")),
      h("h3", {}, t("control_totals")),
      table([
        [t("currency"), ([c]) => c],
        [t("lines"), ([, x]) => x.lines, true],
        [t("entries"), ([c, x]) => `${x.entries} · ${money(x.entries_minor, c)}`, true],
        [t("payout"), ([c, x]) => money(x.payout_minor, c), true],
      ], Object.entries(s.control || {})),
      h("h3", {}, t("exports")),
      table([
        [t("file"), ([, f]) => f.file],
        [t("checksum"), ([, f]) => h("code", { class: "checksum" }, f.sha256)],
        ["", ([name]) => h("button", { class: "secondary", "data-export": name, onclick: () => download(period, name) },
          `${t("download")} ${name}`)],
      ], Object.entries(s.exports || {})),
      h("div", { class: "row" }, h("button", { id: "verify", class: "secondary", onclick: verify }, t("verify_exports"))),
      verified);
  }, { wide: true });

  const compare = card(t("compare"), () => api(`/settlements/${period}/compare`), (c) => {
    const row = (x) => [x.partner_id, x.currency];
    const changes = (rows) => table([
      [t("partner"), (x) => x.partner_id],
      [t("previous"), (x) => x.previous_minor === null ? "—" : money(x.previous_minor, x.currency), true],
      [t("payout"), (x) => x.current_minor === null ? "—" : money(x.current_minor, x.currency), true],
      [t("change"), (x) => money(x.change_minor, x.currency), true],
    ], rows, (x) => ({ "data-partner": row(x).join("/") }));
    return h("div", { id: "compare" },
      h("p", {}, t("compare_help", { previous: c.previous })),
      h("h3", {}, `${t("flagged")} (${c.flagged.length})`), c.flagged.length ? changes(c.flagged) : h("p", { class: "state empty" }, "—"),
      h("h3", {}, `${t("largest")}`), c.largest.length ? changes(c.largest) : h("p", { class: "state empty" }, "—"),
      h("h3", {}, `${t("new_partners")} (${c.new.length})`), c.new.length ? changes(c.new) : h("p", { class: "state empty" }, "—"),
      h("h3", {}, `${t("missing_partners")} (${c.missing.length})`), c.missing.length ? changes(c.missing) : h("p", { class: "state empty" }, "—"));
  }, { wide: true });

  payouts = payoutList(period, act, drill);
  return [summary, payouts, drill, compare];
}

function payoutList(period, act, drill) {
  const f = {
    q: h("input", { type: "search", id: "payout-search", "aria-label": t("search"), placeholder: t("search_partner") }),
    status: h("select", { id: "payout-status", "aria-label": t("status") },
      ["", "draft", "approved", "paid", "carried", "failed", "bounce_reported"].map((s) =>
        h("option", { value: s }, s ? t(s) : t("any_status")))),
    currency: h("input", { id: "payout-currency", "aria-label": t("currency"), placeholder: "USD", size: 4 }),
    min: h("input", { id: "payout-min", "aria-label": t("min_amount"), placeholder: t("min_amount"), inputmode: "decimal", size: 8 }),
    max: h("input", { id: "payout-max", "aria-label": t("max_amount"), placeholder: t("max_amount"), inputmode: "decimal", size: 8 }),
    flagged: h("input", { type: "checkbox", id: "payout-flagged" }),
    sort: h("select", { id: "payout-sort", "aria-label": t("sort") },
      ["partner_id", "partner_name", "payout_minor", "carried_out_minor", "currency", "status"].map((s) =>
        h("option", { value: s }, t("sort_" + s)))),
    desc: h("input", { type: "checkbox", id: "payout-desc" }),
  };
  const cursors = [null];
  let at = 0;
  const load = () => api(`/settlements/${period}/payouts` + qs({
    q: f.q.value.trim(), status: f.status.value, currency: f.currency.value.trim().toUpperCase(),
    min: toMinor(f.min.value), max: toMinor(f.max.value), flagged: f.flagged.checked ? "true" : "",
    sort: f.sort.value, desc: f.desc.checked ? "true" : "", cursor: cursors[at] || "",
  }));
  const el = card(t("lines"), load, (d) => {
    const path = (l) => `/settlements/${period}/payouts/${l.partner_id}/${l.currency}/failed`;
    const withReason = (l, suffix, label) => async () => {
      const asked = await dialog({ title: label, body: `${l.partner_id} · ${money(l.payout_minor, l.currency)}`,
        requireReason: true, confirmLabel: label });
      if (asked) act(path(l) + suffix, { reason: asked.reason });
    };
    const actions = (l) => {
      if (l.payout_status || !(l.payout_minor > 0 && ["approved", "paid"].includes(d.batch_status))) return "";
      if (l.bounce_status === "reported") {
        return h("span", { class: "row" }, h("small", { class: "muted" }, `${t("reported_by")} ${l.bounce_reported_by} `),
          h("button", { class: "danger", onclick: withReason(l, "/confirm", t("confirm_failed")) }, t("confirm_failed")),
          h("button", { class: "secondary", onclick: withReason(l, "/dismiss", t("dismiss_failed")) }, t("dismiss_failed")));
      }
      return h("button", { class: "danger", onclick: withReason(l, "", t("mark_failed")) }, t("mark_failed"));
    };
    cursors[at + 1] = d.next;
    return h("div", {},
      h("p", { class: "muted", id: "payout-count" }, t("showing", { n: d.lines.length, total: d.total })),
      d.lines.length ? table([
        [t("partner"), (l) => h("a", { href: "#", class: "drill", onclick: (ev) => { ev.preventDefault(); drillLine(period, l, drill); } },
          `${l.partner_id} ${l.partner_name || ""}`)],
        [t("currency"), (l) => l.currency],
        [t("commissions"), (l) => money(l.commissions_minor, l.currency), true],
        [t("bonuses"), (l) => money(l.bonuses_minor, l.currency), true],
        [t("clawbacks"), (l) => money(l.clawbacks_minor, l.currency), true],
        [t("adjustments"), (l) => money(l.adjustments_minor, l.currency), true],
        [t("carried_in"), (l) => money(l.carried_in_minor, l.currency), true],
        [t("payout"), (l) => money(l.payout_minor, l.currency), true],
        [t("carried_out"), (l) => money(l.carried_out_minor, l.currency), true],
        [t("status"), (l) => h("span", {}, pill(l.status), l.flagged ? [" ", pill("flagged")] : "")],
        [t("actions"), actions],
      ], d.lines, (l) => ({ "data-partner": l.partner_id })) : h("p", { class: "state empty" }, t("no_lines")),
      h("div", { class: "row pager" },
        h("button", { class: "secondary", id: "payout-prev", disabled: at === 0, onclick: () => { at -= 1; el.refresh(); } }, t("previous_page")),
        h("button", { class: "secondary", id: "payout-next", disabled: !d.next, onclick: () => { at += 1; el.refresh(); } }, t("next_page"))));
  }, { wide: true });
  const apply = () => { cursors.length = 1; at = 0; el.refresh(); };
  const filters = h("form", { class: "row filters", onsubmit: (ev) => { ev.preventDefault(); apply(); } },
    f.q, f.status, f.currency, f.min, f.max,
    h("label", { class: "field inline" }, f.flagged, ` ${t("flagged_only")}`),
    f.sort, h("label", { class: "field inline" }, f.desc, ` ${t("descending")}`),
    h("button", { type: "submit", id: "payout-apply" }, t("apply")));
  for (const x of [f.status, f.flagged, f.sort, f.desc]) x.addEventListener("change", apply);
  el.id = "payouts";
  el.insertBefore(filters, el.children[1]);
  return el;
}

// ---- drill-down: line → entries → order → plan rule --------------------------------------------
async function drillLine(period, line, drill) {
  drill.hidden = false;
  drill.replaceChildren(h("h2", {}, `${t("entries")}: ${line.partner_id}`), h("p", { class: "state loading" }, t("loading")));
  try {
    const e = await api(`/settlements/${period}/lines/${line.partner_id}/entries`);
    drill.replaceChildren(h("h2", {}, `${t("entries")}: ${line.partner_id} ${line.partner_name || ""}`), table([
      [t("kind"), (x) => t("kind_" + x.kind)],
      [t("order"), (x) => x.kind === "bonus" ? "—" : h("a", { href: "#", class: "order-link", "data-order": x.order_id,
        onclick: (ev) => { ev.preventDefault(); drillOrder(x.order_id, drill); } }, x.order_id)],
      [t("level"), (x) => x.level || "—", true],
      [t("rate"), (x) => x.rate_bps ? `${x.rate_bps / 100} %` : "—", true],
      [t("plan_version"), (x) => x.plan_version, true],
      [t("amount"), (x) => money(x.amount_minor, x.currency), true],
      [t("trace"), (x) => x.trace ? h("pre", { class: "trace" }, JSON.stringify(x.trace, null, 1)) : ""],
    ], e.entries));
  } catch (err) { drill.replaceChildren(h("p", { class: "state error" }, errorText(err))); }
  drill.scrollIntoView({ block: "nearest" });
}

async function drillOrder(orderId, drill) {
  const section = h("div", { id: "order-view" }, h("p", { class: "state loading" }, t("loading")));
  const old = drill.querySelector("#order-view");
  if (old) old.remove();
  drill.append(section);
  try {
    const o = await api(`/orders/${encodeURIComponent(orderId)}`);
    section.replaceChildren(
      h("h3", {}, `${t("order")} ${o.order.order_id} · ${money(o.order.amount_minor, o.order.currency)}`,
        o.order.refunded_minor ? ` (${t("refunded")} ${money(o.order.refunded_minor, o.order.currency)})` : ""),
      table([
        [t("partner"), (x) => x.partner_id],
        [t("kind"), (x) => t("kind_" + x.kind)],
        [t("level"), (x) => x.level || "—", true],
        [t("rule"), (x) => h("span", { class: "rule" }, x.rule)],
        [t("settles_in"), (x) => x.held ? pill("held") : x.settles_in],
        [t("amount"), (x) => money(x.amount_minor, x.currency), true],
      ], o.entries));
  } catch (err) { section.replaceChildren(h("p", { class: "state error" }, errorText(err))); }
}
