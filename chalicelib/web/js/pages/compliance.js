// The compliance page (admin, finance): a period's compliance report (depth of earners, own sales
// versus downline, recruitment-only income, violations of the profile) and the full leaderboards.
import { addCatalogue, api, card, fetchDownload, h, money, periods, t, table } from "../core.js";
import labels from "../i18n/compliance.js";

addCatalogue(labels, "compliance");

const BOARDS = ["partner_sales", "partner_team_sales", "partner_recruits", "member_invites"];
const COUNTED = ["partner_recruits", "member_invites"];
// What was chosen, kept across re-renders (a language switch renders the page again).
const chosen = {};
const select = (id, label, options) => {
  const el = h("select", { id, "aria-label": label },
    options.map(([value, text]) => h("option", { value, selected: chosen[id] === value }, text)));
  el.addEventListener("change", () => { chosen[id] = el.value; });
  return el;
};
const violationList = (vs) => vs.length
  ? h("ul", { class: "violations" }, vs.map((v) => h("li", { class: "state error" }, `${v.rule}: ${v.message}`)))
  : h("p", { class: "state ok" }, t("no_violations"));

function reportView(r) {
  const plan = r.in_force.plan;
  const recruitment = Object.entries(r.recruitment_only_minor);
  return h("div", { id: "compliance-report" },
    h("p", {}, `${t("profile")}: `, h("strong", { id: "profile" }, r.profile),
      plan ? ` · ${t("plan_in_force")} v${plan.version}: ${t("paid_levels", { n: plan.paid_levels })}` : ""),
    violationList([...r.violations, ...(plan ? plan.violations : []), ...r.in_force.reward_program.violations]),
    h("h3", {}, t("depth")),
    r.depth.length ? table([
      [t("level"), (d) => d.level, true], [t("earners"), (d) => d.earners, true],
      [t("amount"), (d) => Object.entries(d.amounts_minor).map(([c, a]) => money(a, c)).join(" · "), true],
    ], r.depth, (d) => ({ "data-level": d.level })) : h("p", { class: "state empty" }, t("empty")),
    h("h3", {}, t("income_split")),
    r.partners.length ? table([
      [t("partner"), (p) => p.partner_id], [t("own_sales"), (p) => money(p.own_minor, p.currency), true],
      [t("downline_income"), (p) => money(p.downline_minor, p.currency), true],
      [t("own_share"), (p) => p.own_share_bps === null ? "—" : `${(p.own_share_bps / 100).toFixed(2)}%`, true],
    ], r.partners) : h("p", { class: "state empty" }, t("empty")),
    h("p", { id: "recruitment-only" }, `${t("recruitment_only")}: `,
      recruitment.length ? recruitment.map(([c, a]) => money(a, c)).join(" · ") : "0"));
}

export function render(main) {
  const period = select("report-period", t("period"), periods(12).map((p) => [p, p]));
  const report = card(t("report"), () => api(`/admin/compliance/report?period=${period.value}`), reportView,
    { wide: true });
  period.addEventListener("change", () => report.refresh());
  const csv = h("button", { class: "secondary", id: "report-csv", onclick: () =>
    fetchDownload(`/admin/compliance/report?period=${period.value}&format=csv`, `${period.value}-compliance.csv`) },
  `${t("download")} CSV`);

  const board = select("board", t("board"), BOARDS.map((b) => [b, t(b)]));
  const boardPeriod = select("board-period", t("period"), periods(12).map((p) => [p, p]));
  const currency = h("input", { id: "board-currency", value: "USD", size: 4, "aria-label": t("currency") });
  const boards = card(t("leaderboards"), () => api(`/admin/leaderboards/${board.value}?period=${boardPeriod.value}` +
    (COUNTED.includes(board.value) ? "" : `&currency=${encodeURIComponent(currency.value)}`)), (d) => h("div", {},
    h("p", { class: "muted" }, `${t("built_at")}: ${d.built_at || t("not_built")}`),
    d.rows.length ? table([
      [t("lb_rank"), (r) => r.rank, true], [t("shown_as"), (r) => r.shown_as], [t("name"), (r) => `${r.id} ${r.name}`],
      [t("amount"), (r) => COUNTED.includes(d.board) ? String(r.amount) : money(r.amount, d.currency), true],
    ], d.rows) : null), { wide: true });
  for (const el of [board, boardPeriod, currency]) el.addEventListener("change", () => boards.refresh());

  main.replaceChildren(h("h1", {}, t("nav_compliance")),
    h("div", { class: "row" }, period, csv), h("div", { class: "grid" }, report),
    h("div", { class: "row" }, board, boardPeriod, currency), h("div", { class: "grid" }, boards));
}
