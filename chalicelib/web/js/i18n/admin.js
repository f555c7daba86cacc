// Labels of the admin screens (js/pages/admin.js).
export default {
  en: {
    nav_admin: "Admin", search_partners: "Search partners", move: "Move under…",
    new_sponsor: "New sponsor code", confirm_move: "Move {partner} and its whole downline under {sponsor}?",
    set_status: "Status", plans: "Commission plans", version: "Version", effective_from: "Effective from",
    levels: "Levels", targets: "Targets", set_target: "Set target", rank: "Rank", shops: "Connected shops",
    provider: "Provider", webhook_url: "Webhook URL", configured: "Configured",
    not_configured: "Not configured", subscribe: "Subscribe to", settings_needed: "Settings",
    outbound: "Outbound webhooks", endpoint: "Endpoint", events: "Events", add_endpoint: "Add endpoint",
    delivery_log: "Delivery log", show_log: "Delivery log", event: "Event", attempts: "Attempts",
    replay: "Replay", replayed: "Queued again", secret_once: "Signing secret (shown once): {secret}",
    disable: "Disable",
  },
  zh: {
    nav_admin: "管理", search_partners: "搜索伙伴", move: "调整上级…", new_sponsor: "新上级代码",
    confirm_move: "将 {partner} 及其全部下线移到 {sponsor} 之下？", set_status: "状态", plans: "佣金方案", version: "版本",
    effective_from: "生效时间", levels: "层级", targets: "目标", set_target: "设置目标", rank: "级别", shops: "已接入的店铺",
    provider: "平台", webhook_url: "Webhook 地址", configured: "已配置", not_configured: "未配置", subscribe: "订阅事件",
    settings_needed: "设置项", outbound: "外发 Webhook", endpoint: "端点", events: "事件", add_endpoint: "添加端点",
    delivery_log: "投递记录", show_log: "投递记录", event: "事件", attempts: "尝试次数", replay: "重新投递", replayed: "已重新排队",
    secret_once: "签名密钥（仅显示一次）：{secret}", disable: "停用",
  },
};
