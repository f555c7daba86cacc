// The partner's dashboard: links, funnel, bonus progress, earnings, downline and payouts.
import { addCatalogue, S, api, card, errorText, fetchDownload, h, money, periods, pill, svg, t, table, toast } from "../core.js";
import labels from "../i18n/partner.js";

addCatalogue(labels, "partner");

export function render(main) {
  const id = S.me.partner_id;
  // A terminated partner keeps only what it earned and was paid (the API refuses the rest:
  // api/access.STANDING), so the other cards are not even asked for.
  const ended = S.me.status === "terminated";
  const period = h("select", { id: "period", "aria-label": t("period") },
    periods(6).map((p) => h("option", { value: p }, p)));
  const links = ended ? null : card(t("my_links"), () => api(`/partners/${id}/links`), (data, refresh) => {
    const dest = h("input", { id: "destination", type: "url", required: true, placeholder: "https://…",
      "aria-label": t("destination") });
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      try { await api("/links", { method: "POST", body: { destination: dest.value } }); refresh(); }
      catch (e) { toast(errorText(e)); }
    } }, dest, h("button", { type: "submit", id: "create-link" }, t("create_link")));
    const list = data.links.length ? table([
      [t("code"), (l) => h("a", { href: `/r/${l.code}`, class: "link-url" }, `${location.origin}/r/${l.code}`)],
      [t("destination"), (l) => l.destination],
      ["", (l) => h("button", { class: "secondary", onclick: async () => {
        try { await navigator.clipboard.writeText(`${location.origin}/r/${l.code}`); toast(t("copied")); }
        catch (e) { toast(`${location.origin}/r/${l.code}`); }
      } }, t("copy"))],
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
  });
  const downline = ended ? null : card(t("downline"), () => api(`/partners/${id}/downline`), (d) => d.total ? table(
    [[t("level"), (l) => l.level], [t("partners"), (l) => l.count, true]], d.levels)
    : h("p", { class: "state empty" }, t("no_downline")));
  const progress = card(t("progress"), () => api(`/partners/${id}/progress`), (p) => {
    if (!p.currency) return h("p", { class: "state empty" }, t("no_bonus_rules"));
    const cur = p.currency;
    const next = p.next_tier_minor;
    const pct = next ? Math.min(100, Math.floor((p.volume_minor * 100) / next)) : 100;
    const bar = h("div", { class: "meter" }, h("i", {}));
    bar.firstChild.style.width = `${pct}%`;
    return h("div", { id: "progress" },
      h("p", {}, `${t("volume")}: `, h("b", {}, money(p.volume_minor, cur)), ` (${p.period})`), bar,
      h("p", {}, next ? t("next_tier_needs", { amount: money(p.needed_for_next_tier_minor, cur),
        tier: money(next, cur) }) : t("top_tier")),
      p.target_minor !== null ? h("p", {}, `${t("target")}: ${money(p.target_minor, cur)} · ` +
        `${t("overachievement")}: ${money(p.overachievement_minor, cur)}`) : null,
      h("p", { class: "muted" }, `${t("estimate")}: `, h("b", {}, money(p.estimated_bonus_total_minor, cur))));
  });
  const payouts = card(t("payouts"), () => api(`/partners/${id}/payouts`), (d) => d.payouts.length ? table([
    [t("period"), (p) => p.period], [t("payout"), (p) => money(p.payout_minor, p.currency), true],
    [t("carried_out"), (p) => money(p.carried_out_minor, p.currency), true],
    [t("status"), (p) => pill(p.payout_status)],
    [t("statement"), (p) => h("button", { class: "secondary", "data-statement": p.period,
      onclick: () => fetchDownload(`/partners/${id}/payouts/${p.period}/statement`, `${p.period}-statement.csv`) },
      t("download"))],
  ], d.payouts) : h("p", { class: "state empty" }, t("no_payouts")), { wide: true });
  main.replaceChildren(h("h1", {}, t("nav_partner")),
    ended ? h("p", { class: "state", id: "partner-ended" }, t("partner_ended")) : null,
    h("div", { class: "grid" }, links, funnel, progress, earnings, downline, payouts));
}

function chart(months) {
  if (!months.length) return null;
  const states = [["pending", "#9a6700"], ["payable", "#1f6feb"], ["in_payment", "#8250df"], ["paid", "#1a7f37"]];
  const cur = Object.keys(months[months.length - 1].currencies)[0];
  const rows = months.slice(-8).map((m) => ({ p: m.period, v: (m.currencies[cur] || {}) }));
  const max = Math.max(1, ...rows.map((r) => states.reduce((a, [s]) => a + Math.max(0, r.v[s] || 0), 0)));
  const W = 320, H = 140, bw = Math.min(W / rows.length, 48);
  const bars = rows.map((r, i) => {
    let y = H - 18;
    const parts = states.map(([s, color]) => {
      const hgt = ((Math.max(0, r.v[s] || 0)) / max) * (H - 28);
      y -= hgt;
      return svg("rect", { x: i * bw + 6, y, width: bw - 12, height: hgt, fill: color });
    });
    return svg("g", {}, parts, svg("text", { x: i * bw + bw / 2, y: H - 4, "text-anchor": "middle",
      "font-size": 9, fill: "#5f6b7a" }, r.p.slice(2)));
  });
  return h("div", { class: "chart", "aria-label": t("by_month") }, h("p", { class: "muted" }, `${t("by_month")} (${cur})`),
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" }, bars),
    h("div", { class: "legend" }, states.map(([s, color]) => {
      const sw = h("i", {});
      sw.style.background = color;
      return h("span", {}, sw, t(s));
    })));
}
