// Labels of the partner's dashboard (js/pages/partner.js).
export default {
  en: {
   
    partner_ended: "Your partnership has ended. You can still see your earnings, bonus progress, payouts and statements.",
    nav_partner: "Dashboard", my_links: "My links", create_link: "Create link", destination: "Destination",
    no_links: "No links yet — create one to start sharing.", funnel: "Funnel", clicks: "Clicks",
    signups: "Sign-ups", earnings: "Earnings", by_month: "Earnings by month", downline: "My downline",
    level: "Level", partners: "Partners", no_downline: "No one in your downline yet.", progress: "Progress",
    volume: "Volume", next_tier_needs: "{amount} more to reach the {tier} tier", target: "Target",
    overachievement: "Above target", estimate: "If the period closed now (estimate)",
    no_bonus_rules: "No bonus plan for this period.", statement: "Statement", no_payouts: "No payouts yet.",
  },
  zh: {
    partner_ended: "您的合作已终止。您仍可查看收益、奖金进度、付款和对账单。", nav_partner: "概览", my_links: "我的推广链接", create_link: "创建链接",
    destination: "目标地址", no_links: "还没有链接——创建一个开始分享吧。", funnel: "转化漏斗", clicks: "点击", signups: "注册",
    earnings: "收益", by_month: "按月收益", downline: "我的下线", level: "层级", partners: "伙伴", no_downline: "您还没有下线。",
    progress: "进度", volume: "业绩", next_tier_needs: "再完成 {amount} 即可达到 {tier} 档", target: "目标",
    overachievement: "超额", estimate: "若现在结算（预估）", no_bonus_rules: "本周期没有奖金方案。", statement: "对账单",
    no_payouts: "还没有付款。",
  },
};
