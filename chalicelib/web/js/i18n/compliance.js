// Labels of the compliance page (js/pages/compliance.js).
export default {
  en: {
    nav_compliance: "Compliance", report: "Compliance report", profile: "Profile",
    plan_in_force: "plan in force", paid_levels: "pays {n} levels", no_violations: "No violations.",
    depth: "Earners by level", level: "Level", earners: "Earners", income_split: "Own sales and downline",
    own_sales: "Own sales", downline_income: "Downline", own_share: "Own share", recruitment_only: "Recruitment-only income",
    leaderboards: "Leaderboards", board: "Board", partner_sales: "Partners by sales",
    partner_team_sales: "Partners by team sales", partner_recruits: "Partners by recruits",
    member_invites: "Members by invites", built_at: "Built at", not_built: "not built yet", lb_rank: "Rank", shown_as: "Shown as", name: "Name",
  },
  zh: {
    nav_compliance: "合规", report: "合规报告", profile: "合规配置", plan_in_force: "现行方案",
    paid_levels: "计酬 {n} 级", no_violations: "没有违规。", depth: "各层级获酬人数", level: "层级", earners: "获酬人数",
    income_split: "自身销售与下线", own_sales: "自身销售", downline_income: "下线", own_share: "自身占比",
    recruitment_only: "仅凭拉人头的收入", leaderboards: "排行榜", board: "榜单", partner_sales: "伙伴销售榜",
    partner_team_sales: "伙伴团队销售榜", partner_recruits: "伙伴推荐榜", member_invites: "会员邀请榜",
    built_at: "生成时间", not_built: "尚未生成", lb_rank: "名次", shown_as: "显示为", name: "名称",
  },
};
