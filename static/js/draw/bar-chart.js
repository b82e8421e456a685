/** Ten horizontal bars, one per digit; widths follow the probabilities and animate in CSS. */

import { element, percent } from "../dom.js";

export class BarChart {
  constructor(container, { label, compact = false }) {
    this.rows = Array.from({ length: 10 }, (_, digit) => barRow(digit));
    this.list = element("ol", { class: compact ? "bar-chart compact" : "bar-chart", "aria-label": label },
      ...this.rows.map((row) => row.item));
    container.replaceChildren(this.list);
  }

  /** Show ten probabilities, or empty bars for `null`. */
  update(probabilities) {
    const top = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    this.rows.forEach((row, digit) => {
      const value = probabilities ? probabilities[digit] : 0;
      row.item.style.setProperty("--p", value.toFixed(4));
      row.item.classList.toggle("is-top", digit === top);
      row.item.dataset.probability = value;
      row.value.textContent = probabilities ? percent(value) : "–";
    });
  }
}

function barRow(digit) {
  const value = element("span", { class: "bar-value", text: "–" });
  const item = element("li", { class: "bar", "data-digit": digit },
    element("span", { class: "bar-digit" }, element("span", { class: "visually-hidden", text: "Digit " }), String(digit)),
    element("span", { class: "bar-track", "aria-hidden": "true" }, element("span", { class: "bar-fill" })),
    element("span", { class: "visually-hidden", text: ": " }),
    value);
  return { item, value };
}
