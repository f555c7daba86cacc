// Amounts and rates typed by an admin, converted exactly to the integers the API takes: a decimal
// string in currency units to minor units by the currency's own minor digits (as domain/money.py's
// minor_units does on the server), a percentage to basis points. Never through a float.
import { digits } from "../core.js";

const DECIMAL = /^([0-9]{1,15})(?:\.([0-9]{1,15}))?$/;
const MAX_MINOR = 10_000_000_000;  // domain/money.MAX_AMOUNT_MINOR

// "12.5" with 2 digits -> 1250; "0.125" with 2 digits -> null (inexact); "" -> null.
export function scaled(text, places) {
  const m = DECIMAL.exec(String(text).trim());
  if (!m) return null;
  const fraction = m[2] || "";
  if (fraction.slice(places).replace(/0/g, "") !== "") return null;  // more decimals than allowed
  const whole = m[1].replace(/^0+(?=\d)/, "");
  const kept = fraction.slice(0, places).padEnd(places, "0");
  const text_ = (whole + kept).replace(/^0+(?=\d)/, "");
  if (text_.length > 15) return null;  // beyond any amount the API takes, and beyond exact JS integers
  return parseInt(text_, 10);
}

// A decimal string in currency units to minor units, or an Error whose message key says why.
export function toMinor(text, currency) {
  const places = digits(currency);
  if (!DECIMAL.test(String(text).trim())) throw new RangeError("amount_not_decimal");
  const minor = scaled(text, places);
  if (minor === null) throw new RangeError(places ? "amount_too_precise" : "amount_whole_only");
  if (minor > MAX_MINOR) throw new RangeError("amount_too_large");
  return minor;
}

export function fromScaled(n, places) {
  const s = String(Math.abs(n)).padStart(places + 1, "0");
  return (n < 0 ? "-" : "") + (places ? `${s.slice(0, -places)}.${s.slice(-places)}` : s);
}

// Minor units back to the decimal string the form shows (1250 USD -> "12.50"), exact.
export const fromMinor = (minor, currency) => fromScaled(minor, digits(currency));

// "12.5" % -> 1250 bps; at most two decimals (a basis point is 0.01 %), at most 100 %.
export function toBps(text) {
  const bps = scaled(text, 2);
  if (bps === null || bps > 10_000) throw new RangeError("rate_invalid");
  return bps;
}

// 1250 bps -> "12.5"; 1000 -> "10" (the form's percentage text).
export const pctText = (bps) => fromScaled(bps, 2).replace(/0+$/, "").replace(/\.$/, "");
export const pct = (bps) => `${pctText(bps)}%`;

export const CURRENCIES = ["USD", "EUR", "GBP", "CNY", "HKD", "SGD", "AUD", "CAD", "CHF", "JPY", "KRW", "TWD"];
