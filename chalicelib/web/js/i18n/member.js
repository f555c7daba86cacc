// Labels of the member's rewards page (js/pages/member.js).
export default {
  en: {
    nav_member: "Rewards", my_invite: "My invite", my_tier: "My tier", my_rewards: "My rewards",
    copy_invite: "Copy my invite link", discount: "Member discount", spend: "Spend", invites: "Invites",
    in_days: "(last {days} days)", either: "either is enough", unit: "Unit", redeem: "Redeem", coupon: "Coupon",
    coupons: "My coupons", no_coupons: "No coupons yet.", friend: "Friend", friends: "Invited friends",
    no_friends: "No invited friends yet — share your link.", min_order: "Minimum order", expires: "Expires",
    point_worth: "1 point is worth {value} off an order.",
    next_tier_member: "{tier}: {spend} more spend or {orders} more orders",
    next_tier_progress: "Toward {tier}: {spent} of {goal} spent",
  },
  zh: {
    nav_member: "奖励", my_invite: "我的邀请", my_tier: "我的等级", my_rewards: "我的奖励",
    copy_invite: "复制我的邀请链接", discount: "会员折扣", spend: "消费", invites: "邀请",
    in_days: "（近 {days} 天）", either: "满足其一即可", unit: "单位", redeem: "兑换", coupon: "优惠券",
    coupons: "我的优惠券", no_coupons: "还没有优惠券。", friend: "好友", friends: "邀请的好友",
    no_friends: "还没有邀请好友——分享您的链接吧。", min_order: "最低订单金额", expires: "到期",
    point_worth: "1 积分可抵扣订单 {value}。",
    next_tier_member: "{tier}：再消费 {spend} 或再下 {orders} 单",
    next_tier_progress: "距离{tier}：已消费 {spent}，目标 {goal}",
  },
};
