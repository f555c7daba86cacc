"""Upline: referral and distribution-partner commissions."""
