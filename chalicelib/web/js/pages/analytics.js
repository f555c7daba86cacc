// Program analytics (issue 16): member, partner and reward KPIs for a period and a currency, drawn
// with uPlot (served from this origin, chalicelib/web/vendor), each with its table and a CSV download.
import { addCatalogue, api, card, fetchDownload, h, money, periods, t, table } from "../core.js";
import labels from "../i18n/analytics.js";

addCatalogue(labels, "analytics");

const VENDOR = "/app/assets/vendor";
let loading = null;

// uPlot is a classic script (an IIFE that sets window.uPlot): load it, and its stylesheet, once.
function uPlotReady() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      document.head.append(h("link", { rel: "stylesheet", href: `${VENDOR}/uPlot.min.css` }));
      const s = h("script", { src: `${VENDOR}/uPlot.iife.min.js` });
      s.addEventListener("load", () => resolve(window.uPlot));
      s.addEventListener("error", () => { loading = null; reject(new Error("uPlot did not load")); });
      document.head.append(s);
    });
  }
  return loading;
}

const COLOURS = ["#2f6fde", "#d9822b", "#2e9d5b", "#b84a9a"];
const pct = (x) => (x === null || x === undefined ? "—" : `${(Number(x) * 100).toFixed(1)}%`);

// A line chart over labelled points (months or weeks); `series`: [[label, values]]. The figure has a
// text alternative; the table beside it holds the same numbers.
function chart(title, xLabels, series, id) {
  const box = h("figure", { class: "chart", id, role: "img", "aria-label": title }, h("figcaption", {}, title));
  uPlotReady().then((uPlot) => {
    const width = Math.max(280, Math.min(640, (box.parentElement || document.body).clientWidth - 24));
    const opts = {
      width, height: 220, scales: { x: { time: false } },
      axes: [{ values: (u, vals) => vals.map((v) => xLabels[v] || "") }, {}],
      series: [{}, ...series.map(([label], i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
    };
    const data = [xLabels.map((_, i) => i), ...series.map(([, values]) => values.map((v) => (v === null ? null : Number(v))))];
    new uPlot(opts, data, box);
  }).catch(() => box.append(h("p", { class: "state error" }, t("error"))));
  return box;
}

const query = (q) => `from=${q.from}&to=${q.to}&currency=${encodeURIComponent(q.currency)}`;

function csvButton(kpi, q) {
  return h("button", { class: "secondary", "data-csv": kpi,
    onclick: () => fetchDownload(`/admin/analytics/${kpi}/csv?${query(q)}`, `analytics-${kpi}-${q.from}-${q.to}.csv`) },
  t("an_csv"));
}

function members(q) {
  return card(t("an_members"), () => api(`/admin/analytics/members?${query(q)}`), (d) => {
    const months = d.monthly.map((r) => r.month);
    const later = Object.keys((d.retention[0] || {})).filter((k) => /^m\d+$/.test(k));
    return h("div", { class: "kpi", id: "kpi-members" },
      h("div", { class: "row" }, csvButton("members", q)),
      chart(`${t("an_new_members")} / ${t("an_active_members")}`, months,
        [[t("an_new_members"), d.monthly.map((r) => r.new_members)],
          [t("an_active_members"), d.monthly.map((r) => r.active_members)]], "chart-members"),
      chart(t("an_active_weekly"), d.weekly.map((w) => w.week),
        [[t("an_active_members"), d.weekly.map((w) => w.active_members)]], "chart-weekly"),
      chart(t("an_repurchase"), months, [[t("an_repurchase"), d.monthly.map((r) => r.repurchase_rate)],
        [t("an_member_repurchase"), d.monthly.map((r) => r.member_repurchase_rate)],
        [t("an_non_member_repurchase"), d.monthly.map((r) => r.non_member_repurchase_rate)]], "chart-repurchase"),
      table([[t("an_month"), (r) => r.month], [t("an_new_members"), (r) => r.new_members, true],
        [t("an_active_members"), (r) => r.active_members, true], [t("an_repurchase"), (r) => pct(r.repurchase_rate), true],
        [t("an_member_repurchase"), (r) => pct(r.member_repurchase_rate), true],
        [t("an_non_member_repurchase"), (r) => pct(r.non_member_repurchase_rate), true],
        [t("an_member_aov"), (r) => (r.member_aov_minor === null ? "—" : money(r.member_aov_minor, q.currency)), true],
        [t("an_non_member_aov"), (r) => (r.non_member_aov_minor === null ? "—" : money(r.non_member_aov_minor, q.currency)), true],
        [t("an_tier_up"), (r) => r.tier_up, true], [t("an_tier_down"), (r) => r.tier_down, true]], d.monthly),
      h("h3", {}, t("an_retention")),
      table([[t("an_cohort"), (r) => r.cohort], [t("an_size"), (r) => r.size, true],
        ...later.map((k) => [`+${k.slice(1)}`, (r) => pct(r[k]), true])], d.retention, () => ({ class: "retention-row" })),
      h("h3", {}, t("an_ltv")),
      table([[t("an_cohort"), (r) => r.cohort], [t("an_size"), (r) => r.size, true],
        ...Object.keys(d.ltv[0] || {}).filter((k) => /^\d{4}$/.test(k)).map((y) =>
          [y, (r) => (r[y] === null || r[y] === undefined ? "—" : money(r[y], q.currency)), true])], d.ltv),
      h("h3", {}, t("an_tiers")),
      table([[t("an_month"), (r) => r.month], ...["normal", "bronze", "silver", "gold"].map((k) => [t(k), (r) => r[k], true])],
        d.tiers));
  }, { wide: true });
}

function partners(q) {
  return card(t("an_partners"), () => api(`/admin/analytics/partners?${query(q)}`), (d) => h("div", { class: "kpi", id: "kpi-partners" },
    h("div", { class: "row" }, csvButton("partners", q)),
    chart(t("an_attributed"), d.monthly.map((r) => r.month),
      [[t("an_attributed"), d.monthly.map((r) => r.attributed_revenue_minor)],
        [t("commissions"), d.monthly.map((r) => r.commissions_minor)]], "chart-partners"),
    table([[t("an_month"), (r) => r.month], [t("an_new_partners"), (r) => r.new_partners, true],
      [t("an_active_partners"), (r) => r.active_partners, true],
      [t("an_attributed"), (r) => money(r.attributed_revenue_minor, q.currency), true],
      [t("commissions"), (r) => money(r.commissions_minor, q.currency), true],
      [t("bonuses"), (r) => money(r.bonuses_minor, q.currency), true],
      [t("an_cost_of_sales"), (r) => pct(r.cost_of_sales), true], [t("an_clawback_rate"), (r) => pct(r.clawback_rate), true]],
    d.monthly),
    h("h3", {}, t("an_top_partners")),
    table([[t("partner"), (r) => r.partner_id], [t("an_attributed"), (r) => money(r.attributed_revenue_minor, q.currency), true]],
      d.top)), { wide: true });
}

function rewards(q) {
  return card(t("an_rewards"), () => api(`/admin/analytics/rewards?${query(q)}`), (d) => h("div", { class: "kpi", id: "kpi-rewards" },
    h("div", { class: "row" }, csvButton("rewards", q)),
    chart(t("an_rewards"), d.monthly.map((r) => r.month), [[t("an_issued"), d.monthly.map((r) => r.points_issued)],
      [t("an_redeemed"), d.monthly.map((r) => r.points_redeemed)], [t("an_expired"), d.monthly.map((r) => r.points_expired)]],
    "chart-rewards"),
    table([[t("an_month"), (r) => r.month], [t("an_issued"), (r) => r.points_issued, true],
      [t("an_redeemed"), (r) => r.points_redeemed, true], [t("an_expired"), (r) => r.points_expired, true],
      [t("an_outstanding"), (r) => r.points_outstanding, true], [t("an_liability"), (r) => money(r.liability_minor, q.currency), true],
      [t("an_breakage"), (r) => pct(r.points_breakage), true]], d.monthly)), { wide: true });
}

export function render(main) {
  const months = periods(36);
  const pick = (id, label, value) => h("label", { class: "field" }, label,
    h("select", { id, "aria-label": label }, months.map((m) => h("option", { value: m, selected: m === value }, m))));
  const from = pick("an-from", t("an_from"), months[5]);
  const to = pick("an-to", t("an_to"), months[0]);
  const currency = h("label", { class: "field" }, t("currency"),
    h("input", { id: "an-currency", value: "USD", maxlength: "3", size: "4", "aria-label": t("currency") }));
  const out = h("div", { class: "grid", id: "analytics" });
  const show = () => {
    const q = { from: from.querySelector("select").value, to: to.querySelector("select").value,
      currency: currency.querySelector("input").value.trim().toUpperCase() };
    out.replaceChildren(members(q), partners(q), rewards(q));
  };
  main.replaceChildren(h("h1", {}, t("nav_analytics")), h("section", { class: "card wide", "aria-label": t("an_show") },
    h("div", { class: "row" }, from, to, currency, h("button", { id: "an-show", onclick: show }, t("an_show")))), out);
  show();
}
