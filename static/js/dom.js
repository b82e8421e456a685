/** Tiny DOM builders: every piece of data goes in as text or an attribute, never as HTML. */

import { isRightToLeft, percent as localePercent } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function assign(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.setAttribute("class", value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  return node;
}

/** An HTML element with attributes (`text` sets textContent) and child nodes or strings. */
export function element(tag, attributes = {}, ...children) {
  const node = assign(document.createElement(tag), attributes);
  node.append(...children);
  return node;
}

/** The same for SVG elements. */
export function svgElement(tag, attributes = {}, ...children) {
  const node = assign(document.createElementNS(SVG_NS, tag), attributes);
  node.append(...children);
  return node;
}

/** ">99.9%" kept left to right in a right-to-left page (isolated), so the sign stays before the number. */
function bound(sign, text) {
  return isRightToLeft ? `\u2066${sign}${text}\u2069` : `${sign}${text}`;
}

/** "93.1%" for 0.931, "0%" and "100%" for the exact ends, and 0.99996 as ">99.9%" rather than 100.0%. */
export function percent(value, digits = 1) {
  if (value === 0 || value === 1) return localePercent(value, 0);
  const scaled = value * 100;
  if (scaled >= 99.95 && value < 1) return bound(">", localePercent(1 - 10 ** -digits / 100, digits));
  if (scaled > 0 && scaled < 10 ** -digits) return bound("<", localePercent(10 ** -digits / 100, digits));
  return localePercent(value, digits);
}
