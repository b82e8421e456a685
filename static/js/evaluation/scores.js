/** The headline numbers of one model: accuracy, errors, loss, size, training time, epochs. */

import { element, percent } from "../dom.js";
import { count, duration, fixed } from "./format.js";

export function renderScores(report, { best }) {
  const total = report.per_class.reduce((sum, row) => sum + row.support, 0);
  const facts = [
    ["Test loss", fixed(report.test_loss)],
    ["Parameters", count(report.params)],
    ["Training time", duration(report.training_seconds)],
    ["Epochs", `${report.epochs} (batches of ${report.batch_size})`],
    ["Training images", count(report.train_images)],
  ];
  return element("div", { class: "scores" },
    element("p", { class: "accuracy" },
      element("strong", { class: "accuracy-value", text: percent(report.test_accuracy, 2) }),
      element("span", { text: "test accuracy" }),
      best ? element("span", { class: "badge", text: "most accurate" }) : ""),
    element("p", { class: "errors", text: `${count(report.test_errors)} of ${count(total)} test digits read wrong` }),
    element("dl", { class: "facts" }, ...facts.flatMap(([term, value]) => [
      element("dt", { text: term }), element("dd", { text: value })])));
}
