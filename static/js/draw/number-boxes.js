/** Number mode: a labelled box over the canvas around every digit the server found. */

import { element } from "../dom.js";

/**
 * `digits[i].box` is [x, y, width, height] in pixels of the image that was sent; `frame` says how big
 * that image was and where it lies on the canvas (fractions of the canvas side).
 */
export function showNumberBoxes(container, digits, frame) {
  const [left, top, width, height] = frame.rect;
  const toX = (x) => left + (x / frame.width) * width;
  const toY = (y) => top + (y / frame.height) * height;
  container.replaceChildren(...digits.map(({ digit, box: [x, y, w, h] }) => {
    const box = element("div", { class: "number-box" },
      element("span", { class: "number-box-label", text: String(digit) }));
    box.style.left = `${toX(x) * 100}%`;
    box.style.top = `${toY(y) * 100}%`;
    box.style.width = `${(toX(x + w) - toX(x)) * 100}%`;
    box.style.height = `${(toY(y + h) - toY(y)) * 100}%`;
    return box;
  }));
}

export function clearNumberBoxes(container) {
  container.replaceChildren();
}
