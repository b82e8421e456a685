/** Ten horizontal bars, one per digit; widths follow the probabilities and animate in CSS. */

import { element, percent } from "../dom.js";
import { t } from "../i18n.js";

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
      row.spoken.textContent = spokenRow(digit, row.value.textContent);
    });
  }
}

function spokenRow(digit, value) {
  return t("Digit {digit}: {percent}", { digit, percent: value });
}

/** A row shows the digit, the bar and the value; a screen reader hears one sentence, "Digit 7: 93.1%". */
function barRow(digit) {
  const spoken = element("span", { class: "visually-hidden", text: spokenRow(digit, "–") });
  const value = element("span", { class: "bar-value", "aria-hidden": "true", text: "–" });
  const item = element("li", { class: "bar", "data-digit": digit },
    spoken,
    element("span", { class: "bar-digit", "aria-hidden": "true", text: String(digit) }),
    element("span", { class: "bar-track", "aria-hidden": "true" }, element("span", { class: "bar-fill" })),
    value);
  return { item, value, spoken };
}
