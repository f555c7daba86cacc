// Labels of the finance console (js/pages/finance.js).
export default {
  en: {
    nav_finance: "Finance", confirm_failed: "Confirm bounce", dismiss_failed: "Not a bounce",
    returns: "Returned payouts", reported_by: "reported by", confirmed_by: "confirmed by",
    batches: "Settlement batches", no_batches: "No batches yet.", run_settlement: "Settle a period",
    dry_run: "Preview (dry run)", run: "Settle", approve: "Approve", mark_paid: "Mark paid",
    mark_failed: "Payout failed", lines: "Payouts", entries: "Entries", reconciliation: "Reconciliation",
    reconciled: "Reconciled", control_totals: "Control totals", trace: "Why this amount",
    created_by: "Created by", approved_by: "Approved by", clawbacks: "Clawbacks", carried_in: "Carried in",
    adjustments: "Adjustments", kind: "Kind",
  },
  zh: {
    nav_finance: "财务", confirm_failed: "确认退回", dismiss_failed: "并非退回", returns: "退回的付款", reported_by: "报告人",
    confirmed_by: "确认人", batches: "结算批次", no_batches: "还没有批次。", run_settlement: "结算周期", dry_run: "预览（不写入）",
    run: "结算", approve: "批准", mark_paid: "标记为已付", mark_failed: "付款失败", lines: "付款明细", entries: "分录",
    reconciliation: "对账", reconciled: "已对平", control_totals: "控制合计", trace: "金额依据", created_by: "创建人",
    approved_by: "批准人", clawbacks: "追回", carried_in: "上期结转", adjustments: "调整", kind: "类型",
  },
};
