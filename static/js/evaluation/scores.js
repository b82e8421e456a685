/** The headline numbers of one model: accuracy, errors, loss, size, training time, epochs; each in plain words
 * first, its technical name beside it. */

import { element, percent } from "../dom.js";
import { t, tn } from "../i18n.js";
import { count, duration, fixed } from "./format.js";

export function renderScores(report, { best }) {
  const total = report.per_class.reduce((sum, row) => sum + row.support, 0);
  const facts = [
    [t("How far off, on average (lower is better)"), t("test loss"), fixed(report.test_loss)],
    [t("Numbers it learned"), t("parameters"), count(report.params)],
    [t("Time it took to learn"), t("training time"), duration(report.training_seconds)],
    [t("Passes over the training digits, {size} at a time", { size: count(report.batch_size) }), t("epochs"),
      count(report.epochs)],
    [t("Digits it learned from"), t("training images"), count(report.train_images)],
  ];
  return element("div", { class: "scores" },
    element("p", { class: "accuracy" },
      element("strong", { class: "accuracy-value", text: percent(report.test_accuracy, 2) }),
      element("span", {}, t("right on the test digits"), " ",
        element("small", { class: "technical", text: t("test accuracy") })),
      best ? element("span", { class: "badge", text: t("most accurate") }) : ""),
    element("p", { class: "errors", text: tn("{errors} of {n} test digit read wrong",
      "{errors} of {n} test digits read wrong", total, { errors: count(report.test_errors) }) }),
    element("dl", { class: "facts" }, ...facts.flatMap(([plain, technical, value]) => [
      element("dt", {}, plain, " ", element("small", { class: "technical", text: technical })),
      element("dd", { text: value })])));
}
