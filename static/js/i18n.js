/**
 * The page's words in its language: the `js` catalog the server puts in every page (webapp/http/language.py).
 *
 *   t("Clear")                                   -> "Löschen"
 *   t("It read your {digit} as {guess}", {digit: 1, guess: 7})
 *   tn("{n} drawing", "{n} drawings", count)     -> the language's plural form, {n} written the locale's way
 *   percent(0.997, 1) -> "99,7 %" (de), "99.7\u200e%\u200e" (ar: CLDR's Western digits);  count(1234) -> "1.234" (de)
 *
 * Messages are extracted with `make translations-extract` (pybabel, keywords t and tn); a message without a
 * translation shows the English.
 */

const element = document.getElementById("i18n-catalog");
const catalog = element ? JSON.parse(element.textContent) : {};
const messages = catalog.messages || {};
const pluralTable = catalog.plural || [];

/** The page's language as a BCP 47 tag ("pt-BR"), for Intl and `lang` attributes. */
export const locale = catalog.locale || document.documentElement.lang || "en";
export const isRightToLeft = (catalog.direction || document.documentElement.dir) === "rtl";

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The translation of `message`, with {name} replaced by values[name]. */
export function t(message, values) {
  const found = messages[message];
  return fill(typeof found === "string" && found ? found : message, values);
}

function pluralIndex(n) {
  const whole = Math.abs(Math.trunc(n));
  if (!pluralTable.length) return whole === 1 ? 0 : 1;
  return whole < pluralTable.length ? pluralTable[whole] : pluralTable[100 + (whole % 100)];
}

/** The plural form for `n` (the English `singular` or `plural` when untranslated); {n} is n written the
 * locale's way, other {names} come from `values`. */
export function tn(singular, plural, n, values) {
  const forms = messages[singular];
  const index = pluralIndex(n);
  const chosen = Array.isArray(forms) && forms[index] ? forms[index] : (Math.abs(n) === 1 ? singular : plural);
  return fill(chosen, { n: count(n), ...values });
}

const formats = new Map();
function format(options) {
  const key = JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(locale, options));
  return formats.get(key);
}

/** A fraction as a percentage the locale's way: percent(0.9967, 2) -> "99.67%" (en), "99,67 %" (de). */
export function percent(fraction, digits = 0) {
  return format({ style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(fraction);
}

/** A number the locale's way: count(12345) -> "12,345" (en), "12.345" (de); `digits` decimals when given. */
export function count(value, digits) {
  const options = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return format(options).format(value);
}
