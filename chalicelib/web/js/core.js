// The portal's shared pieces: the session, labels, DOM helpers, the one API client, cards, tables
// and an accessible dialog. Page modules (js/pages/*.js) import what they use from here.
import common from "./i18n/common.js";

export const S = {
  token: sessionStorage.getItem("upline.token") || "",
  me: null,
  notice: "",  // an i18n key shown once on the next page (e.g. why a sign-in link was ignored)
  lang: localStorage.getItem("upline.lang") ||
    ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en"),
};

// ---- labels --------------------------------------------------------------------------------------
// One catalogue per module (js/i18n/<name>.js: {en: {...}, zh: {...}}), merged here. A key defined
// twice is a mistake that would make one label silently win; the console says which.
export const I18N = { en: {}, zh: {} };

export function addCatalogue(cat, name = "") {
  for (const lang of Object.keys(I18N)) {
    for (const [k, v] of Object.entries(cat[lang] || {})) {
      if (k in I18N[lang] && I18N[lang][k] !== v) console.warn(`i18n: ${name} redefines ${lang}.${k}`);
      I18N[lang][k] = v;
    }
  }
}
addCatalogue(common, "common");

export const has = (key) => Boolean(I18N[S.lang] && key in I18N[S.lang]);

export function t(key, vars) {
  let s = (I18N[S.lang] && I18N[S.lang][key]) || I18N.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

// A server error in the reader's language: the catalogue's `err_<code>` when it has one, else the
// server's own message.
export function errorText(e) {
  return e && e.code && has("err_" + e.code) ? t("err_" + e.code) : (e && e.message) || t("error");
}

// ---- DOM -----------------------------------------------------------------------------------------
// Build DOM without innerHTML: text always goes in as text.
export function h(tag, attrs, ...children) {
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

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (e) { return 2; }
}

export const locale = () => (S.lang === "zh" ? "zh-CN" : "en-US");

// Minor units to a localised amount, through a decimal string: no float arithmetic on money.
export function money(minor, currency) {
  const d = digits(currency);
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(d + 1, "0");
  const dec = d ? `${s.slice(0, -d)}.${s.slice(-d)}` : s;
  return new Intl.NumberFormat(locale(), { style: "currency", currency }).format((neg ? "-" : "") + dec);
}

export function toast(msg) {
  const el = document.getElementById("toast");
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3500);
}

// ---- the API client ------------------------------------------------------------------------------
export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export async function api(path, { method = "GET", body, raw } = {}) {
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

// Fetch a file with the bearer token and hand it to the browser as a download named `filename`.
export async function fetchDownload(path, filename) {
  try {
    const res = await api(path, { raw: true });
    const a = h("a", { href: URL.createObjectURL(await res.blob()), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) { toast(errorText(e)); }
}

// ---- building blocks -----------------------------------------------------------------------------
// The last n periods, newest first, counted back from the program's current period as the server
// gives it in /me (its calendar and clock), not from the browser's clock.
export function periods(n) {
  const out = [];
  const [y, m] = (S.me && S.me.period ? S.me.period : new Date().toISOString().slice(0, 7)).split("-").map(Number);
  for (let i = 0; i < n; i++) {
    const x = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(`${x.getUTCFullYear()}-${String(x.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}

// A card that loads its own data and shows loading, empty and error states.
export function card(title, load, render, { wide = false, empty = "empty" } = {}) {
  const body = h("div", {}, h("p", { class: "state loading" }, t("loading")));
  const el = h("section", { class: "card" + (wide ? " wide" : ""), "aria-label": title }, h("h2", {}, title), body);
  const refresh = async () => {
    body.replaceChildren(h("p", { class: "state loading" }, t("loading")));
    try {
      const data = await load();
      const content = render(data, refresh);
      body.replaceChildren(content || h("p", { class: "state empty" }, t(empty)));
    } catch (e) {
      body.replaceChildren(h("p", { class: "state error" }, `${t("error")}: ${errorText(e)}`),
        h("button", { class: "secondary", onclick: refresh }, t("retry")));
    }
  };
  refresh();
  el.refresh = refresh;
  return el;
}

// columns: [label, get(row), numeric?]
export function table(columns, rows, rowAttrs) {
  const wrap = h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([label, , num]) => h("th", { class: num ? "num" : "" }, label)))),
    h("tbody", {}, rows.map((r, i) => h("tr", rowAttrs ? rowAttrs(r, i) : {},
      columns.map(([, get, num]) => h("td", { class: num ? "num" : "" }, get(r))))))));
  // A table wider than its card (a phone, a long cohort table) scrolls: then the keyboard must reach it.
  const focusable = () => { wrap.tabIndex = wrap.scrollWidth > wrap.clientWidth ? 0 : -1; };
  requestAnimationFrame(focusable);
  addEventListener("resize", focusable);
  return wrap;
}

export const pill = (s) => h("span", { class: `pill ${s || ""}` }, s ? t(s) : "—");

// ---- dialog --------------------------------------------------------------------------------------
// A modal <dialog> in place of prompt()/confirm()/alert(): labelled by its title, focus kept inside
// (the browser's modal dialog makes the rest of the page inert), Esc cancels. Resolves to the field
// values ({name: value}, plus `reason` when requireReason) on confirm, or null when cancelled.
//   fields: [{name, label, type?, required?, value?}]; body: text or a node; cancelLabel: null hides Cancel.
let dialogs = 0;
export function dialog({ title, body, fields = [], confirmLabel, cancelLabel, requireReason = false } = {}) {
  const n = ++dialogs;
  const all = fields.concat(requireReason ? [{ name: "reason", label: t("reason"), required: true }] : []);
  const inputs = all.map((f, i) => {
    const id = `dlg${n}-${i}`;
    const input = h("input", { id, name: f.name, type: f.type || "text", required: f.required || undefined,
      autocomplete: "off" });
    if (f.value !== undefined) input.value = f.value;
    return [f, input, h("label", { for: id, class: "field" }, f.label, input)];
  });
  const titleId = `dlg${n}-title`;
  const bodyId = `dlg${n}-body`;
  const cancel = cancelLabel === null ? null
    : h("button", { type: "button", class: "secondary", value: "cancel" }, cancelLabel || t("cancel"));
  const ok = h("button", { type: "submit", value: "ok" }, confirmLabel || t("dialog_ok"));
  const form = h("form", { method: "dialog" },
    h("h2", { id: titleId }, title),
    body ? h("div", { id: bodyId, class: "dialog-body" }, body) : null,
    inputs.map(([, , label]) => label),
    h("p", { class: "state error", role: "alert" }),
    h("div", { class: "row actions" }, cancel, ok));
  const dlg = h("dialog", { class: "dialog", "aria-labelledby": titleId,
    "aria-describedby": body ? bodyId : undefined }, form);
  document.body.append(dlg);
  return new Promise((resolve) => {
    let result = null;
    const close = () => dlg.close();
    if (cancel) cancel.addEventListener("click", close);
    form.addEventListener("submit", (ev) => {
      const missing = inputs.find(([f, input]) => f.required && !input.value.trim());
      if (missing) { ev.preventDefault(); missing[1].focus(); return; }
      result = Object.fromEntries(inputs.map(([f, input]) => [f.name, input.value.trim()]));
    });
    // Tab and Shift+Tab go round inside the dialog.
    dlg.addEventListener("keydown", (ev) => {
      if (ev.key !== "Tab") return;
      const focusable = [...dlg.querySelectorAll("input, button, select, textarea, a[href]")].filter((x) => !x.disabled);
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
    });
    const back = document.activeElement;
    dlg.addEventListener("close", () => {
      dlg.remove();
      if (back && back.isConnected) back.focus();
      resolve(result);
    });
    dlg.showModal();  // Esc fires "cancel" then "close": result stays null
    (inputs.length ? inputs[0][1] : ok).focus();
  });
}

// ---- shared small pieces for the pages -----------------------------------------------------------
// A classic script from this origin (the CSP allows no other), loaded once.
const scripts = {};
export function loadScript(src) {
  scripts[src] = scripts[src] || new Promise((resolve, reject) => {
    const s = h("script", { src, onload: resolve, onerror: () => reject(new Error(src)) });
    document.head.append(s);
  });
  return scripts[src];
}

// "2026-08" as the reader says it: "Aug 2026" / "2026年8月".
export function monthLabel(period, style = "short") {
  const [y, m] = period.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: style, timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, 1)));
}

// An ISO timestamp as a date in the reader's language.
export function dateLabel(iso) {
  return iso ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(new Date(iso)) : "—";
}

// A button that copies `text`; says so, or shows the text when the clipboard is not available.
export function copyButton(text, label) {
  return h("button", { type: "button", class: "secondary", "aria-label": label, onclick: async () => {
    try { await navigator.clipboard.writeText(text); toast(t("copied")); } catch (e) { toast(text); }
  } }, t("copy"));
}

// RFC 4180 CSV (quoted cells, doubled quotes, CRLF) into rows of cells.
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
