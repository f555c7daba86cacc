// The page modules, by the page names /me returns (api/access.PAGES decides who sees which).
// A new page: its module here (exporting `render(main)`), its labels in js/i18n/, its row in PAGES.
export * as partner from "./partner.js";
export * as member from "./member.js";
export * as finance from "./finance.js";
export * as admin from "./admin.js";
