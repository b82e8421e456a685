/** The headline numbers of one model: accuracy, errors, loss, size, training time, epochs; each in plain words
 * first, its technical name beside it. */

import { element, percent } from "../dom.js";
import { count, duration, fixed } from "./format.js";

export function renderScores(report, { best }) {
  const total = report.per_class.reduce((sum, row) => sum + row.support, 0);
  const facts = [
    ["How far off, on average (lower is better)", "test loss", fixed(report.test_loss)],
    ["Numbers it learned", "parameters", count(report.params)],
    ["Time it took to learn", "training time", duration(report.training_seconds)],
    [`Passes over the training digits, ${report.batch_size} at a time`, "epochs", String(report.epochs)],
    ["Digits it learned from", "training images", count(report.train_images)],
  ];
  return element("div", { class: "scores" },
    element("p", { class: "accuracy" },
      element("strong", { class: "accuracy-value", text: percent(report.test_accuracy, 2) }),
      element("span", {}, "right on the test digits ", element("small", { class: "technical", text: "test accuracy" })),
      best ? element("span", { class: "badge", text: "most accurate" }) : ""),
    element("p", { class: "errors", text: `${count(report.test_errors)} of ${count(total)} test digits read wrong` }),
    element("dl", { class: "facts" }, ...facts.flatMap(([plain, technical, value]) => [
      element("dt", {}, plain, " ", element("small", { class: "technical", text: technical })),
      element("dd", { text: value })])));
}
