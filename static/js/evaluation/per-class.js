/** Precision, recall, F1 and support per digit, as a table headed in plain words; the weakest digit is marked. */

import { element, percent } from "../dom.js";
import { t } from "../i18n.js";
import { count } from "./format.js";

const COLUMNS = [[t("Right when it says it"), t("precision")], [t("Finds the real ones"), t("recall")],
  [t("Both together"), t("F1")], [t("Test digits"), t("support")]];

export function renderPerClass(report, caption) {
  const worst = report.per_class.reduce((low, row) => (row.f1 < low.f1 ? row : low));
  const header = element("tr", {}, element("th", { scope: "col", text: t("Digit") }),
    ...COLUMNS.map(([plain, technical]) => element("th", { scope: "col" }, plain,
      element("small", { class: "technical", text: technical }))));
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
    element("p", { class: "muted table-note",
      text: t("Hardest digit for this model: {digit} (both together {f1}, the F1 score).",
        { digit: worst.digit, f1: percent(worst.f1) }) }));
}
