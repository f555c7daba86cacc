// Upline portal: plain JavaScript over the same API, with the same bearer tokens and roles.
// This entry signs in, draws the header and routes `#/<page>` to the page module of that name
// (js/pages/index.js). Which pages a role may open comes only from /me (the server's access matrix).
import { S, api, h, t, toast } from "./core.js";
import * as PAGES from "./pages/index.js";

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

// ---- sign-in and refusal -------------------------------------------------------------------------------------
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
    h("a", { href: `#/${p}`, class: p === page ? "active" : "" }, t(`nav_${p}`))));
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
  if (!page || !PAGES[page]) { location.hash = `#/${allowed[0] || "signin"}`; return; }
  if (!allowed.includes(page)) return forbidden(main, page);
  PAGES[page].render(main);
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
