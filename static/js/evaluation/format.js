/** Numbers as people read them on the evaluation page, the page language's way. */

import { count as localeCount, t } from "../i18n.js";

export function count(value) {
  return localeCount(Number(value));
}

/** "8.4 s", "3 min 20 s", "2 h 5 min": the units as the page's language abbreviates them. */
export function duration(seconds) {
  if (seconds < 60) return t("{seconds} s", { seconds: fixed(seconds, seconds < 10 ? 1 : 0) });
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) {
    return t("{minutes} min {seconds} s", { minutes: localeCount(minutes), seconds: localeCount(rest) });
  }
  return t("{hours} h {minutes} min",
    { hours: localeCount(Math.floor(minutes / 60)), minutes: localeCount(minutes % 60) });
}

/** `value` with `digits` decimals, rounded as toFixed rounds (0.01775 -> "0.0177"), written the locale's way. */
export function fixed(value, digits = 4) {
  return localeCount(Number(Number(value).toFixed(digits)), digits);
}
