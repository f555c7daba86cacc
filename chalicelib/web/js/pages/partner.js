// The partner's dashboard: links, funnel, bonus progress, earnings, downline and payouts.
import {
  addCatalogue, S, api, card, copyButton, errorText, fetchDownload, h, loadScript, monthLabel, money, parseCsv, periods,
  pill, t, table, toast,
} from "../core.js";
import labels from "../i18n/partner.js";

addCatalogue(labels, "partner");

export function render(main) {
  const id = S.me.partner_id;
  const printable = location.hash.match(/^#\/partner\/statement\/(\d{4}-\d{2})$/);
  if (printable) return statement(main, id, printable[1]);
  // A terminated partner keeps only what it earned and was paid (the API refuses the rest:
  // api/access.STANDING), so the other cards are not even asked for.
  const ended = S.me.status === "terminated";
  const period = h("select", { id: "period", "aria-label": t("period") },
    periods(6).map((p) => h("option", { value: p }, monthLabel(p, "long"))));
  const links = ended ? null : card(t("my_links"), () => api(`/partners/${id}/links`), (data, refresh) => {
    const dest = h("input", { id: "destination", type: "url", required: true, placeholder: "https://…",
      "aria-label": t("destination") });
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      try { await api("/links", { method: "POST", body: { destination: dest.value } }); refresh(); }
      catch (e) { toast(errorText(e)); }
    } }, dest, h("button", { type: "submit", id: "create-link" }, t("create_link")));
    // The code is what a partner reads out and recognises; the copy button copies the whole link.
    const list = data.links.length ? table([
      [t("code"), (l) => h("a", { href: `/r/${l.code}`, class: "link-url", title: `${location.origin}/r/${l.code}` },
        h("code", { class: "link-code" }, l.code))],
      [t("destination"), (l) => h("span", { class: "wrap" }, l.destination)],
      ["", (l) => copyButton(`${location.origin}/r/${l.code}`, t("copy_link", { code: l.code }))],
    ], data.links) : h("p", { class: "state empty" }, t("no_links"));
    return h("div", {}, form, list);
  }, { wide: true });
  const funnel = ended ? null : card(t("funnel"), () => api(`/partners/${id}/funnel?period=${period.value}`), (f) => {
    const sums = (by) => Object.entries(by);
    const step = (key, by) => h("div", { class: "step", "data-step": key },
      h("b", {}, sums(by).length ? sums(by).map(([c, m]) => money(m, c)).join(" · ") : money(0, "USD")),
      h("span", {}, t(key)));
    return h("div", {}, h("div", { class: "row" }, period), h("div", { class: "funnel", id: "funnel" },
      [["clicks", f.clicks], ["signups", f.signups], ["orders", f.orders]].map(([k, v]) =>
        h("div", { class: "step", "data-step": k }, h("b", {}, v), h("span", {}, t(k)))),
      step("commissions", f.commissions_minor),
      sums(f.bonuses_minor).length ? step("bonuses", f.bonuses_minor) : null));
  });
  period.addEventListener("change", () => funnel && funnel.refresh());
  const earnings = card(t("earnings"), () => Promise.all([api(`/partners/${id}/commissions`),
    api(`/partners/${id}/earnings`)]), ([c, e]) => {
    const totals = Object.entries(c.totals);
    if (!totals.length) return null;
    // Each minor unit once: what is owed (pending, available, in payment), what was paid, and what
    // is under review. Returned and released amounts are owed again by a newer entry, shown there.
    const shown = ["pending", "payable", "in_payment", "paid"].concat(totals.some(([, x]) => x.held) ? ["held"] : []);
    return h("div", {}, table([[t("currency"), (r) => r[0]],
      ...shown.map((s) => [t(s), (r) => h("span", { "data-state": s },
        money(r[1][s] || 0, r[0])), true])], totals), chart(e.months));
  }, { wide: true });
  const downline = ended ? null : card(t("downline"), () => api(`/partners/${id}/downline`), (d) => d.total ? table(
    [[t("level"), (l) => l.level], [t("partners"), (l) => l.count, true]], d.levels)
    : h("p", { class: "state empty" }, t("no_downline")));
  const progress = card(t("progress"), () => api(`/partners/${id}/progress`), (p) => {
    if (!p.currency) return h("p", { class: "state empty" }, t("no_bonus_rules"));
    const cur = p.currency;
    const next = p.next_tier_minor;
    const pct = next ? Math.min(100, Math.floor((p.volume_minor * 100) / next)) : 100;
    const bar = h("progress", { max: 100, value: pct, "aria-label": t("progress") });
    return h("div", { id: "progress" },
      h("p", {}, `${t("volume")}: `, h("b", {}, money(p.volume_minor, cur)), ` (${monthLabel(p.period, "long")})`), bar,
      h("p", {}, next ? t("next_tier_needs", { amount: money(p.needed_for_next_tier_minor, cur),
        tier: money(next, cur) }) : t("top_tier")),
      p.target_minor !== null ? h("p", {}, `${t("target")}: ${money(p.target_minor, cur)} · ` +
        `${t("overachievement")}: ${money(p.overachievement_minor, cur)}`) : null,
      h("p", { class: "muted" }, `${t("estimate")}: `, h("b", {}, money(p.estimated_bonus_total_minor, cur))));
  });
  const payouts = card(t("payouts"), () => api(`/partners/${id}/payouts`), (d) => d.payouts.length ? table([
    [t("period"), (p) => monthLabel(p.period, "long")], [t("payout"), (p) => money(p.payout_minor, p.currency), true],
    [t("carried_out"), (p) => money(p.carried_out_minor, p.currency), true],
    [t("status"), (p) => pill(p.payout_status)],
    [t("statement"), (p) => h("span", { class: "actions" },
      h("a", { href: `#/partner/statement/${p.period}`, class: "button secondary", "data-view-statement": p.period },
        t("view_statement")), " ",
      h("button", { class: "secondary", "data-statement": p.period,
        onclick: () => fetchDownload(`/partners/${id}/payouts/${p.period}/statement`,
          `${t("statement_file")}-${p.period}.csv`) }, t("download_csv")))],
  ], d.payouts) : h("p", { class: "state empty" }, t("no_payouts")), { wide: true });
  main.replaceChildren(...[h("h1", {}, t("nav_partner")),
    ended ? h("p", { class: "state", id: "partner-ended" }, t("partner_ended")) : null,
    h("div", { class: "grid" }, links, funnel, progress, downline, earnings, payouts, ended ? null : leaderboard(id))].filter(Boolean));
}


// ---- earnings by month: uPlot (vendor/, from npm), one line per state, values on hover ------------
const STATES = [["pending", "#9a6700"], ["payable", "#1f6feb"], ["in_payment", "#8250df"], ["paid", "#1a7f37"]];

function chart(months) {
  if (!months.length) return null;
  const cur = Object.keys(months[months.length - 1].currencies)[0];
  // Every month from the first with earnings (at least the last six up to the latest), empty ones as zero.
  const by = Object.fromEntries(months.map((m) => [m.period, m.currencies[cur] || {}]));
  const last = months[months.length - 1].period;
  const span = [];
  for (let [y, m] = last.split("-").map(Number), i = 0; i < 12; i++) {
    const p = `${y}-${String(m).padStart(2, "0")}`;
    if (i >= 6 && p < months[0].period) break;
    span.unshift(p);
    [y, m] = m === 1 ? [y - 1, 12] : [y, m - 1];
  }
  const rows = span.map((p) => ({ p, v: by[p] || {} }));
  const box = h("div", { class: "chart-canvas" });
  const caption = `${t("by_month")} (${cur})`;
  // The same figures as text, for screen readers and for print: the chart is a picture of this table.
  const summary = h("table", { class: "visually-hidden" }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", {}, t("period")), STATES.map(([s]) => h("th", {}, t(s))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", {}, monthLabel(r.p)),
      STATES.map(([s]) => h("td", {}, money(r.v[s] || 0, cur)))))));
  const el = h("figure", { class: "chart", id: "earnings-chart" }, h("figcaption", { class: "muted" }, caption), box, summary);
  loadScript("/app/assets/vendor/uPlot.iife.min.js").then(() => draw(box, rows, cur))
    .catch(() => box.replaceChildren(h("p", { class: "state error" }, t("error"))));
  return el;
}

function draw(box, rows, cur) {
  const uPlot = window.uPlot;
  // y values are the minor-unit integers themselves; labels go through money(), never floats.
  const data = [rows.map((_, i) => i), ...STATES.map(([s]) => rows.map((r) => r.v[s] || 0))];
  const width = () => Math.max(260, box.clientWidth || 320);
  const opts = {
    width: width(), height: 220,
    scales: { x: { time: false, range: [-0.5, rows.length - 0.5] } },
    cursor: { points: { size: 8 }, drag: { x: false, y: false } },
    legend: { live: true },
    series: [
      { label: t("period"), value: (u, v) => (v === null || rows[v] === undefined ? "—" : monthLabel(rows[v].p)) },
      ...STATES.map(([s, color]) => ({
        label: t(s), stroke: color, width: 2, points: { show: true, size: 6, fill: color },
        value: (u, v) => (v === null ? "—" : money(v, cur)),
      })),
    ],
    axes: [
      { values: (u, splits) => splits.map((i) => (rows[i] ? monthLabel(rows[i].p) : "")),
        splits: () => rows.map((_, i) => i), grid: { show: false }, stroke: "#5f6b7a" },
      { values: (u, splits) => splits.map((v) => money(Math.round(v), cur)), stroke: "#5f6b7a",
        // wide enough for the longest amount label ("US$8,000.00" in Chinese)
        size: (u, values) => 16 + 7 * Math.max(8, ...(values || []).map((v) => String(v).length)) },
    ],
  };
  box.replaceChildren();
  const plot = new uPlot(opts, data, box);
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(box);
}

// ---- a statement to read and print: the period's payout, the plan rules that applied, every entry --
const COLS = ["batch", "partner_id", "currency", "entry_id", "kind", "order_id", "level", "period", "occurred_at",
  "amount_minor", "plan_version", "rate_bps", "reverses", "trace"];

function statement(main, id, period) {
  const body = h("div", {}, h("p", { class: "state loading" }, t("loading")));
  main.replaceChildren(h("article", { class: "statement", id: "statement" },
    h("div", { class: "row no-print" },
      h("a", { href: "#/partner", class: "button secondary" }, t("back")),
      h("button", { type: "button", id: "print", onclick: () => window.print() }, t("print")),
      h("button", { type: "button", class: "secondary", onclick: () => fetchDownload(
        `/partners/${id}/payouts/${period}/statement`, `${t("statement_file")}-${period}.csv`) }, t("download_csv"))),
    h("h1", {}, `${t("statement")} · ${monthLabel(period, "long")}`),
    h("p", { class: "muted" }, `Upline · ${t("partner")} ${id}${S.me.name ? " · " + S.me.name : ""}`),
    body));
  Promise.all([api(`/partners/${id}/payouts`), api(`/partners/${id}/payouts/${period}/statement`, { raw: true })
    .then((r) => r.text())]).then(([p, csv]) => {
    const lines = p.payouts.filter((x) => x.period === period);
    const [head, ...rest] = parseCsv(csv).filter((r) => r.length > 1);
    const at = Object.fromEntries((head || COLS).map((c, i) => [c, i]));
    const entries = rest.map((r) => Object.fromEntries(COLS.map((c) => [c, r[at[c]] === undefined ? "" : r[at[c]]])));
    body.replaceChildren(
      h("section", { "aria-labelledby": "st-summary" }, h("h2", { id: "st-summary" }, t("summary")),
        lines.map((l) => table([
          [t("currency"), () => l.currency],
          [t("commissions"), () => money(l.commissions_minor, l.currency), true],
          [t("bonuses"), () => money(l.bonuses_minor, l.currency), true],
          [t("clawbacks"), () => money(l.clawbacks_minor, l.currency), true],
          [t("adjustments"), () => money(l.adjustments_minor, l.currency), true],
          [t("carried_in"), () => money(l.carried_in_minor, l.currency), true],
          [t("payout"), () => h("b", {}, money(l.payout_minor, l.currency)), true],
          [t("carried_out"), () => money(l.carried_out_minor, l.currency), true],
          [t("status"), () => pill(l.payout_status)],
        ], [l]))),
      h("section", { "aria-labelledby": "st-rules" }, h("h2", { id: "st-rules" }, t("plan_rules")), rules(entries)),
      h("section", { "aria-labelledby": "st-entries" }, h("h2", { id: "st-entries" }, t("entries")),
        entries.length ? table([
          [t("date"), (e) => e.occurred_at.slice(0, 10)],
          [t("kind"), (e) => (t(`kind_${e.kind}`) === `kind_${e.kind}` ? e.kind : t(`kind_${e.kind}`))],
          [t("order"), (e) => h("span", { class: "wrap" }, e.order_id.replace(/^'/, ""))],
          [t("level"), (e) => e.level],
          [t("rate"), (e) => (e.rate_bps ? `${Number(e.rate_bps) / 100}%` : "—"), true],
          [t("amount"), (e) => money(parseInt(e.amount_minor, 10), e.currency), true],
        ], entries) : h("p", { class: "state empty" }, t("empty"))),
      h("p", { class: "muted small" }, t("statement_note")));
  }).catch((e) => body.replaceChildren(h("p", { class: "state error" }, `${t("error")}: ${errorText(e)}`)));
}

// The rules the statement's entries were computed with, read from the entries themselves: each plan
// version's level rates (commissions), and each bonus's tier or target (its trace).
function rules(entries) {
  const items = new Map();
  const pct = (bps) => `${Number(bps) / 100}%`;
  for (const e of entries) {
    if (e.kind === "commission" && e.plan_version && Number(e.rate_bps) > 0) {
      items.set(`c|${e.plan_version}|${e.level}|${e.rate_bps}`,
        t("rule_line", { version: e.plan_version, level: e.level, rate: pct(e.rate_bps) }));
    } else if (e.kind === "bonus" && e.trace) {
      let tr = null;
      try { tr = JSON.parse(e.trace.replace(/^'/, "")); } catch (err) { tr = null; }
      if (!tr) continue;
      const m = (x) => money(Number(x), e.currency);
      const basis = t(tr.basis || "personal");
      if (tr.tier_threshold_minor !== undefined) {
        items.set(`b|${e.entry_id}`, t("rule_threshold", { basis, volume: m(tr.volume_minor),
          threshold: m(tr.tier_threshold_minor),
          pays: tr.flat_minor !== null && tr.flat_minor !== undefined ? m(tr.flat_minor) : pct(tr.rate_bps || 0) }));
      } else if (tr.target_minor !== undefined) {
        items.set(`b|${e.entry_id}`, t("rule_over", { basis, target: m(tr.target_minor), rate: pct(tr.rate_bps || 0),
          above: m(tr.above_target_minor) }));
      }
    }
  }
  return items.size ? h("ul", { id: "plan-rules" }, [...items.values()].sort().map((x) => h("li", {}, x)))
    : h("p", { class: "muted" }, t("no_rules"));
}

// This period's leaderboard: the top ten as everyone sees them (names masked), the partner's own rank,
// and leaving or rejoining the boards (GET /partners/{id}/leaderboard, PUT .../preferences).
const BOARDS = ["partner_sales", "partner_team_sales", "partner_recruits"];
function leaderboard(id) {
  const board = h("select", { id: "board", "aria-label": t("board") },
    BOARDS.map((b) => h("option", { value: b }, t(b))));
  const el = card(t("leaderboard"), () => api(`/partners/${id}/leaderboard?board=${board.value}&top=10`), (d, refresh) => {
    const counted = board.value === "partner_recruits";
    const shown = (r) => counted ? String(r.amount) : money(r.amount, d.currency);
    const optOut = async (out) => {
      try {
        await api(`/partners/${id}/preferences`, { method: "PUT", body: { leaderboard_opt_out: out } });
        toast(t(out ? "left_boards" : "rejoined_boards"));
        refresh();
      } catch (e) { toast(errorText(e)); }
    };
    return h("div", {}, h("div", { class: "row" }, board),
      h("p", { id: "own-rank" }, d.you ? t("your_rank", { rank: d.you.rank, size: d.size, amount: shown(d.you) })
        : t("not_ranked")),
      d.top.length ? table([[t("lb_rank"), (r) => r.rank, true], [t("name"), (r) => r.you ? h("b", {}, r.name) : r.name],
        [t(counted ? "recruits" : "sales"), shown, true]], d.top) : h("p", { class: "state empty" }, t("board_empty")),
      h("div", { class: "row" },
        h("button", { class: "secondary", onclick: () => optOut(true) }, t("leave_boards")),
        h("button", { class: "secondary", onclick: () => optOut(false) }, t("rejoin_boards"))),
      h("p", { class: "muted" }, t("board_note")));
  });
  board.addEventListener("change", () => el.refresh());
  return el;
}
