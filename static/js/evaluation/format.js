/** Numbers as people read them on the evaluation page, the page language's way. */

import { count as localeCount } from "../i18n.js";

export function count(value) {
  return localeCount(Number(value));
}

export function duration(seconds) {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return `${minutes} min ${rest} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function fixed(value, digits = 4) {
  return Number(value).toFixed(digits);
}
