/** Precision, recall, F1 and support per digit, as a table; the weakest digit is marked. */

import { element, percent } from "../dom.js";
import { count } from "./format.js";

export function renderPerClass(report, caption) {
  const worst = report.per_class.reduce((low, row) => (row.f1 < low.f1 ? row : low));
  const header = element("tr", {}, ...["Digit", "Precision", "Recall", "F1", "Support"].map(
    (name) => element("th", { scope: "col", text: name })));
  const rows = report.per_class.map((row) => element("tr", { class: row === worst ? "is-worst" : "" },
    element("th", { scope: "row", text: String(row.digit) }),
    element("td", { text: percent(row.precision) }),
    element("td", { text: percent(row.recall) }),
    element("td", { text: percent(row.f1) }),
    element("td", { text: count(row.support) })));
  return element("div", { class: "table-scroll" },
    element("table", { class: "per-class" },
      element("caption", { class: "visually-hidden", text: caption }),
      element("thead", {}, header), element("tbody", {}, ...rows)),
    element("p", { class: "muted table-note", text: `Hardest digit for this model: ${worst.digit} (F1 ${percent(worst.f1)}).` }));
}
