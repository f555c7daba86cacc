// The admin screens, one tab each (`#/admin/<tab>`): partners (search, status, moves, enrolment,
// targets) with the connected shops and outbound webhooks, the held-order queue, the audit log,
// commission plans with the what-if, and member reward and tier programs.
import { addCatalogue, h, t } from "../core.js";
import labels from "../i18n/admin.js";
import * as audit from "../admin/audit.js";
import * as holds from "../admin/holds.js";
import * as integrations from "../admin/integrations.js";
import * as partners from "../admin/partners.js";
import * as plans from "../admin/plans.js";
import * as programs from "../admin/programs.js";

addCatalogue(labels, "admin");

const TABS = {
  partners: () => [...partners.render(), ...integrations.render()],
  holds: holds.render,
  audit: audit.render,
  plans: plans.render,
  programs: programs.render,
};

export function render(main) {
  const asked = (location.hash.match(/^#\/admin\/(\w+)/) || [])[1];
  const tab = TABS[asked] ? asked : "partners";
  const nav = h("nav", { class: "tabs", "aria-label": t("admin_sections") }, Object.keys(TABS).map((name) =>
    h("a", { href: name === "partners" ? "#/admin" : `#/admin/${name}`, id: `tab-${name}`,
      class: name === tab ? "active" : "", "aria-current": name === tab ? "page" : undefined }, t(`tab_${name}`))));
  main.replaceChildren(h("h1", {}, t("nav_admin")), nav, h("div", { class: "grid" }, ...TABS[tab]()));
}
