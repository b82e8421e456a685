/** How one model reads the world's handwriting styles: its share right on each style of the style benchmark
 * (benchmarks/styled_digits.py, 200 drawings a style, never trained on), from its report. */

import { element, percent } from "../dom.js";
import { t, tn } from "../i18n.js";

const STYLE_WORDS = {
  "flag-1": t("1 with a long flag"),
  "serif-1": t("1 with a small flag and a foot"),
  "bar-7": t("7 with a bar across"),
  "open-4": t("4 open at the top"),
  "closed-4": t("4 closed at the top"),
  "stem-9": t("9 with a straight stem"),
  "loop-2": t("2 with a loop"),
  "cross-8": t("8 in one crossing stroke"),
};

export function renderStyles(report) {
  const styles = report.styles?.accuracy;
  if (!styles) {
    return element("p", { class: "muted",
      text: t("This model's report has no style scores: train it again to add them.") });
  }
  const ordered = [...Object.keys(STYLE_WORDS).filter((style) => style in styles),
    ...Object.keys(styles).filter((style) => !(style in STYLE_WORDS))];
  const rows = ordered.map((style) => [style, styles[style]]).map(([style, share]) => element("tr", { "data-style": style },
    element("th", { scope: "row" }, STYLE_WORDS[style] ?? style, " ", element("small", { class: "technical", text: style })),
    element("td", { class: share < 0.97 ? "low" : "", text: percent(share, 1) })));
  const perStyle = report.styles.trained_per_style;
  const learnt = perStyle
    ? tn("It learnt from {n} drawing of each style, drawn differently.",
      "It learnt from {n} drawings of each style, drawn differently.", perStyle)
    : t("It never saw drawings in these styles while it learnt: only MNIST's.");
  return element("div", { class: "styles" },
    element("table", { class: "style-table" },
      element("thead", {}, element("tr", {}, element("th", { scope: "col", text: t("style") }),
        element("th", { scope: "col", text: t("read right") }))),
      element("tbody", {}, ...rows)),
    element("p", { class: "muted", text: learnt }));
}
