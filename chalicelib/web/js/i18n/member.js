// Labels of the member's rewards page (js/pages/member.js).
export default {
  en: {
    nav_member: "Rewards", my_invite: "My invite", my_tier: "My tier", my_rewards: "My rewards",
    discount: "Member discount", spend: "Spend", invites: "Invites", either: "either is enough", unit: "Unit",
    redeem: "Redeem", coupon: "Coupon", friend: "Friend",
    no_friends: "No invited friends yet — share your link.",
    next_tier_member: "{tier}: {spend} more spend or {orders} more orders",
  },
  zh: {
    nav_member: "奖励", my_invite: "我的邀请", my_tier: "我的等级", my_rewards: "我的奖励", discount: "会员折扣", spend: "消费",
    invites: "邀请", either: "满足其一即可", unit: "单位", redeem: "兑换", coupon: "优惠券", friend: "好友",
    no_friends: "还没有邀请好友——分享您的链接吧。", next_tier_member: "{tier}：再消费 {spend} 或再下 {orders} 单",
  },
};
