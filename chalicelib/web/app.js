// Upline portal: plain JavaScript over the same API, with the same bearer tokens and roles.
"use strict";

const I18N = window.UPLINE_I18N;
const S = {
  token: sessionStorage.getItem("upline.token") || "",
  me: null,
  notice: "",  // an i18n key shown once on the next page (e.g. why a sign-in link was ignored)
  lang: localStorage.getItem("upline.lang") ||
    ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en"),
};
const PAGES = { partner: "nav_partner", member: "nav_member", finance: "nav_finance", admin: "nav_admin" };

// ---- small helpers ------------------------------------------------------------------------------
function t(key, vars) {
  let s = (I18N[S.lang] && I18N[S.lang][key]) || I18N.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

// Build DOM without innerHTML: text always goes in as text.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (e) { return 2; }
}

// Minor units to a localised amount, through a decimal string: no float arithmetic on money.
function money(minor, currency) {
  const d = digits(currency);
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(d + 1, "0");
  const dec = d ? `${s.slice(0, -d)}.${s.slice(-d)}` : s;
  const locale = S.lang === "zh" ? "zh-CN" : "en-US";
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format((neg ? "-" : "") + dec);
}

function toast(msg) {
  const el = document.getElementById("toast");
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3500);
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, { method = "GET", body, raw } = {}) {
  const headers = { Authorization: `Bearer ${S.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (raw && res.ok) return res;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || {};
    throw new ApiError(res.status, e.code || "http_" + res.status, e.message || res.statusText);
  }
  return data;
}

function periods(n) {
  const out = [];
  const d = new Date();
  for (let i = 0; i < n; i++) {
    const x = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1));
    out.push(`${x.getUTCFullYear()}-${String(x.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}

// A card that loads its own data and shows loading, empty and error states.
function card(title, load, render, { wide = false, empty = "empty" } = {}) {
  const body = h("div", {}, h("p", { class: "state loading" }, t("loading")));
  const el = h("section", { class: "card" + (wide ? " wide" : ""), "aria-label": title }, h("h2", {}, title), body);
  const refresh = async () => {
    body.replaceChildren(h("p", { class: "state loading" }, t("loading")));
    try {
      const data = await load();
      const content = render(data, refresh);
      body.replaceChildren(content || h("p", { class: "state empty" }, t(empty)));
    } catch (e) {
      body.replaceChildren(h("p", { class: "state error" }, `${t("error")}: ${e.message}`),
        h("button", { class: "secondary", onclick: refresh }, t("retry")));
    }
  };
  refresh();
  el.refresh = refresh;
  return el;
}

function table(columns, rows, rowAttrs) {
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([label, , num]) => h("th", { class: num ? "num" : "" }, label)))),
    h("tbody", {}, rows.map((r, i) => h("tr", rowAttrs ? rowAttrs(r, i) : {},
      columns.map(([, get, num]) => h("td", { class: num ? "num" : "" }, get(r))))))));
}

const pill = (s) => h("span", { class: `pill ${s || ""}` }, s ? t(s) : "—");

// ---- single sign-on (the identity provider's hosted page, OAuth 2.0 implicit grant) ----------------
// A token in the URL fragment is accepted only as the end of a sign-in this page started: before
// leaving for the identity provider it keeps a random `state` and `nonce` in sessionStorage (this tab,
// this origin); the provider sends `state` back and puts `nonce` inside the signed ID token. A link
// made by someone else (`/app#id_token=<their token>`) matches neither, so it is dropped unread and
// nobody is signed in as whoever minted it (login CSRF).
const SSO_KEY = "upline.sso";
const SSO_MAX_AGE_MS = 10 * 60 * 1000;

function ssoConfig() {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const authorize = meta("upline-sso-authorize");
  return authorize ? { authorize, client: meta("upline-sso-client") } : null;
}

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

function beginSignOn() {
  const sso = ssoConfig();
  const pending = { state: randomHex(32), nonce: randomHex(32), at: Date.now() };
  sessionStorage.setItem(SSO_KEY, JSON.stringify(pending));
  const url = new URL(sso.authorize);
  for (const [k, v] of Object.entries({ response_type: "token", client_id: sso.client, scope: "openid",
    redirect_uri: location.origin + location.pathname, state: pending.state, nonce: pending.nonce })) {
    url.searchParams.set(k, v);
  }
  location.assign(url.toString());
}

// A JWT's claims, unverified: only to compare the nonce; the API verifies the signature.
function jwtClaims(token) {
  try {
    const b64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) { return null; }
}

// The token the identity provider handed back, or null. Whatever the fragment held is removed from
// the URL and the pending sign-in is used up, accepted or not; S.notice says why nothing was taken.
function signOnParams() {
  const hash = location.hash;
  if (!hash || hash.startsWith("#/")) return null;
  const params = new URLSearchParams(hash.slice(1));
  return ["id_token", "access_token", "state", "error"].some((k) => params.has(k)) ? params : null;
}

function takeSignOnResult() {
  const params = signOnParams();
  if (!params) return null;
  history.replaceState(null, "", location.pathname + location.search);
  let pending = null;
  try { pending = JSON.parse(sessionStorage.getItem(SSO_KEY) || "null"); } catch (e) { pending = null; }
  sessionStorage.removeItem(SSO_KEY);
  const ours = pending && typeof pending.state === "string" && params.get("state") === pending.state &&
    Date.now() - pending.at < SSO_MAX_AGE_MS;
  if (!ours) { S.notice = "sso_not_started"; return null; }
  const token = params.get("id_token") || "";
  const claims = token ? jwtClaims(token) : null;
  if (!claims || claims.nonce !== pending.nonce) { S.notice = "sso_failed"; return null; }
  return token;
}

// ---- pages -------------------------------------------------------------------------------------
function signIn(main) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", "aria-label": t("token"),
    placeholder: t("token") });
  const msg = h("p", { class: "state", id: "signin-message" });
  if (S.notice) { msg.className = "state error"; msg.textContent = t(S.notice); S.notice = ""; }
  const form = h("form", { class: "row", onsubmit: async (ev) => {
    ev.preventDefault();
    S.token = input.value.trim();
    try { await start(); } catch (e) { msg.className = "state error"; msg.textContent = t("invalid_token"); }
  } }, input, h("button", { type: "submit", id: "signin" }, t("sign_in")));
  const sso = ssoConfig() ? h("div", { class: "row" },
    h("button", { type: "button", id: "signin-sso", onclick: beginSignOn }, t("sign_in_idp"))) : null;
  main.replaceChildren(h("section", { class: "card" }, h("h1", {}, t("sign_in")),
    h("p", { class: "muted" }, t("sign_in_help")), sso, form, msg));
}

function forbidden(main, page) {
  main.replaceChildren(h("section", { class: "card", id: "forbidden" }, h("h1", {}, t("forbidden")),
    h("p", { class: "muted" }, t("forbidden_help", { role: page }))));
}

function partnerPage(main) {
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
      catch (e) { toast(e.message); }
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

async function fetchDownload(path, filename) {
  try {
    const res = await api(path, { raw: true });
    const a = h("a", { href: URL.createObjectURL(await res.blob()), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) { toast(e.message); }
}

const download = (period, name) => fetchDownload(`/settlements/${period}/exports/${name}/content`,
  `${period}-${name}.${name === "json" ? "json" : "csv"}`);

function financePage(main) {
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
    } catch (e) { runResult.replaceChildren(h("p", { class: "state error" }, e.message)); }
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
        catch (e) { toast(`${e.code}: ${e.message}`); detail.querySelector(".action-error").textContent = e.message; }
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
            onclick: () => { const why = prompt(t("reason")); if (why) act(`/settlements/${period}/paid`, { reason: why }); } }, t("mark_paid")),
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
            } catch (err) { entries.replaceChildren(h("p", { class: "state error" }, err.message)); }
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
            const withReason = (suffix) => () => { const why = prompt(t("reason")); if (why) act(path + suffix, { reason: why }); };
            if (l.payout_status) return pill(l.payout_status);
            if (!(l.payout_minor > 0 && ["approved", "paid"].includes(b.status))) return pill(l.payout_minor > 0 ? b.status : "carried");
            if (l.bounce_status === "reported") {  // a second finance user confirms it, or it is withdrawn
              return h("span", {}, pill("bounce_reported"), ` ${t("reported_by")} ${l.bounce_reported_by} `,
                h("button", { class: "danger", onclick: withReason("/confirm") }, t("confirm_failed")),
                h("button", { class: "secondary", onclick: withReason("/dismiss") }, t("dismiss_failed")));
            }
            return h("button", { class: "danger", onclick: withReason("") }, t("mark_failed"));
          }],
        ], d.lines), entries);
    }, { wide: true }));
  };
  main.replaceChildren(h("h1", {}, t("nav_finance")), h("div", { class: "grid" }, runner, batches, detail));
  const m = location.hash.match(/^#\/finance\/(\d{4}-\d{2})$/);
  if (m) showBatch(m[1]);
}

function adminPage(main) {
  const q = h("input", { id: "q", type: "search", placeholder: t("search_partners"), "aria-label": t("search") });
  const partners = card(t("search_partners"), () => api(`/admin/partners?q=${encodeURIComponent(q.value)}`), (d, refresh) =>
    h("div", {}, h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); refresh(); } }, q,
      h("button", { type: "submit" }, t("search"))),
    d.partners.length ? table([
      [t("partner"), (p) => `${p.partner_id} ${p.name}`], [t("rank"), (p) => p.rank],
      [t("set_status"), (p) => h("select", { "aria-label": t("set_status"), onchange: async (ev) => {
        try { await api(`/admin/partners/${p.partner_id}/status`, { method: "POST", body: { status: ev.target.value } }); toast(t("saved")); }
        catch (e) { toast(e.message); refresh(); }
      } }, ["active", "inactive", "terminated"].map((s) => h("option", { value: s, selected: s === p.status }, s)))],
      ["", (p) => h("button", { class: "secondary", onclick: async () => {
        const sponsor = prompt(t("new_sponsor"));
        if (!sponsor || !confirm(t("confirm_move", { partner: p.partner_id, sponsor }))) return;
        try { await api(`/admin/partners/${p.partner_id}/move`, { method: "POST", body: { new_sponsor_code: sponsor } }); toast(t("saved")); refresh(); }
        catch (e) { toast(`${e.code}: ${e.message}`); }
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
    } catch (e) { toast(e.message); }
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
          catch (e) { toast(e.message); }
        } }, t("replay")) : ""],
      ], d.deliveries) : h("p", { class: "state empty" }, t("empty")));
    } catch (e) { log.replaceChildren(h("p", { class: "state error" }, `${t("error")}: ${e.message}`)); }
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
        alert(t("secret_once", { secret: ep.secret }));
        refresh();
      } catch (e) { toast(e.message); }
    } }, url, h("fieldset", { class: "events" }, h("legend", {}, t("events")), ...boxes),
      h("button", { type: "submit" }, t("add_endpoint")));
    return h("div", {}, d.endpoints.length ? table([
      [t("endpoint"), (ep) => h("code", {}, ep.url)], [t("events"), (ep) => ep.events.join(", ")],
      [t("status"), (ep) => pill(ep.status)],
      ["", (ep) => h("button", { class: "secondary", onclick: () => showLog(ep) }, t("show_log"))],
      ["", (ep) => ep.status === "active" ? h("button", { class: "danger", onclick: async () => {
        try { await api(`/admin/webhooks/endpoints/${ep.endpoint_id}`, { method: "DELETE" }); toast(t("saved")); refresh(); }
        catch (e) { toast(e.message); }
      } }, t("disable")) : ""],
    ], d.endpoints) : h("p", { class: "state empty" }, t("empty")), add, log);
  }, { wide: true });
}

function memberPage(main) {
  const id = S.me.member_id;
  const invite = card(t("my_invite"), () => api(`/members/${id}`), (m) => {
    const url = `${location.origin}/i/${m.invite_code}`;
    return h("div", { id: "invite" }, h("p", {}, `${t("code")}: `, h("b", { id: "invite-code" }, m.invite_code)),
      h("div", { class: "row" }, h("a", { href: url, class: "link-url" }, url),
        h("button", { class: "secondary", onclick: async () => {
          try { await navigator.clipboard.writeText(url); toast(t("copied")); } catch (e) { toast(url); }
        } }, t("copy"))));
  });
  const tier = card(t("my_tier"), () => api(`/members/${id}/tier`), (x) => {
    const cur = x.activity.currency;
    return h("div", { id: "tier" },
      h("p", {}, pill(x.tier), ` ${t("discount")}: ${x.discount_bps / 100}%`),
      h("p", { class: "muted" }, `${t("spend")}: ${money(x.activity.spend_minor, cur)} · ${t("orders")}: ` +
        `${x.activity.counted_orders} · ${t("invites")}: ${x.activity.invites} (${x.window_days} d)`),
      x.next ? h("p", {}, t("next_tier_member", { tier: t(x.next.tier), spend: money(x.next.spend_minor_needed, cur),
        orders: x.next.orders_needed }) + (x.next.either_is_enough ? ` (${t("either")})` : ""))
        : h("p", {}, t("top_tier")));
  });
  const rewards = card(t("my_rewards"), () => api(`/members/${id}/rewards`), (r, refresh) => {
    const unit = h("select", { id: "redeem-unit", "aria-label": t("unit") },
      ["points", "credit"].map((u) => h("option", { value: u }, t(u))));
    const amount = h("input", { id: "redeem-amount", type: "number", min: "1", step: "1", "aria-label": t("amount"),
      placeholder: t("amount") });
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const res = await api(`/members/${id}/redemptions`, { method: "POST", body: {
          redemption_id: `web-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, unit: unit.value,
          amount: parseInt(amount.value, 10) } });
        toast(res.coupon ? `${t("coupon")}: ${res.coupon.code}` : t("saved"));
        refresh();
      } catch (e) { toast(e.message); }
    } }, unit, amount, h("button", { type: "submit", id: "redeem" }, t("redeem")));
    return h("div", {},
      h("p", { id: "balance" }, `${t("points")}: `, h("b", { "data-unit": "points" }, r.available.points),
        ` · ${t("credit")}: `, h("b", { "data-unit": "credit" }, r.available.credit)),
      form,
      r.rewards.length ? table([
        [t("friend"), (x) => x.friend_id], [t("status"), (x) => pill(x.state)],
        [t("amount"), (x) => `${x.base_amount} ${t(x.unit)}`, true],
        ["", (x) => x.reason ? x.reason.message : ""],
      ], r.rewards) : h("p", { class: "state empty" }, t("no_friends")),
      r.coupons.length ? table([[t("coupon"), (c) => c.code], [t("amount"), (c) => money(c.value_minor, c.currency), true],
        [t("status"), (c) => pill(c.used_by_order ? "used" : "available")]], r.coupons) : null);
  }, { wide: true });
  main.replaceChildren(h("h1", {}, t("nav_member")), h("div", { class: "grid" }, invite, tier, rewards));
}

const RENDER = { partner: partnerPage, finance: financePage, admin: adminPage, member: memberPage };

// ---- shell ---------------------------------------------------------------------------------------
function chrome() {
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  document.getElementById("lang").textContent = t("lang_switch");
  const out = document.getElementById("signout");
  out.textContent = t("sign_out");
  out.hidden = !S.me;
  const nav = document.getElementById("nav");
  const page = (location.hash.match(/^#\/(\w+)/) || [])[1];
  nav.replaceChildren(...(S.me ? S.me.pages : []).map((p) =>
    h("a", { href: `#/${p}`, class: p === page ? "active" : "" }, t(PAGES[p]))));
}

function route() {
  const main = document.getElementById("main");
  if (signOnParams()) {
    // A sign-on result only ever arrives by the identity provider's redirect, a fresh page load
    // (start()); one that appears in an open page was put there by a link: dropped unread.
    history.replaceState(null, "", location.pathname + location.search);
    S.notice = "sso_not_started";
  }
  chrome();
  if (S.notice && S.me) { toast(t(S.notice)); S.notice = ""; }
  if (!S.me) return signIn(main);
  const page = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const allowed = S.me.pages;  // from /me: the server's access matrix decides (api/access.PAGES)
  if (!page || !RENDER[page]) { location.hash = `#/${allowed[0] || "signin"}`; return; }
  if (!allowed.includes(page)) return forbidden(main, page);
  RENDER[page](main);
}

async function start() {
  // The end of a single sign-on this page started replaces the session; a planted link changes nothing.
  const handed = takeSignOnResult();
  if (handed) S.token = handed;
  if (!S.token) { S.me = null; return route(); }
  S.me = await api("/me");
  sessionStorage.setItem("upline.token", S.token);
  if (!location.hash || location.hash === "#/signin") location.hash = `#/${S.me.pages[0] || "signin"}`;
  else route();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang").addEventListener("click", () => {
    S.lang = S.lang === "zh" ? "en" : "zh";
    localStorage.setItem("upline.lang", S.lang);
    route();
  });
  document.getElementById("signout").addEventListener("click", () => {
    S.token = ""; S.me = null; sessionStorage.removeItem("upline.token"); location.hash = "#/signin"; route();
  });
  window.addEventListener("hashchange", route);
  start().catch(() => { S.token = ""; S.me = null; sessionStorage.removeItem("upline.token"); route(); });
});
