/**
 * Training curves of one model: loss and accuracy per epoch, training digits vs validation digits. A report
 * written before train.py held out its validation digits drew that curve on the test set: its legend says so.
 */

import { element, percent } from "../dom.js";
import { t, tn } from "../i18n.js";
import { fixed } from "./format.js";
import { lineChart } from "./line-chart.js";

const SERIES = [
  { key: "", name: t("training"), className: "train" },
  { key: "val_", name: t("validation"), className: "validation" },
];

export function renderCurves(report) {
  const history = report.history ?? {};
  const held = report.validation
    ? tn("validation ({n} training digit held out)", "validation ({n} training digits held out)",
      report.validation.images)
    : t("test digits (trained before the validation split)");
  const loss = seriesOf(history, "loss", held);
  const accuracy = seriesOf(history, "accuracy", held);
  if (!loss.length && !accuracy.length) {
    return element("p", { class: "muted", text: t("This report has no training history.") });
  }
  const charts = [];
  if (loss.length) {
    const high = Math.max(...loss.flatMap((s) => s.values));
    charts.push(chartFigure(t("How far off, lower is better"), t("loss"), lineChart({
      label: t("How far off (loss) after each pass over the training digits (epoch): {series}.",
        { series: summary(loss, (v) => fixed(v, 3)) }),
      series: loss, domain: [0, high], format: (v, exact) => fixed(v, exact ? 4 : 2) })));
  }
  if (accuracy.length) {
    const low = Math.min(...accuracy.flatMap((s) => s.values));
    charts.push(chartFigure(t("How often right, higher is better"), t("accuracy"), lineChart({
      label: t("How often right (accuracy) after each pass over the training digits (epoch): {series}.",
        { series: summary(accuracy, (v) => percent(v)) }),
      series: accuracy, domain: [low, 1],
      format: (v, exact) => percent(v, exact ? 2 : 0) })));
  }
  return element("div", { class: "curves" }, legend(loss.length ? loss : accuracy), ...charts);
}

function seriesOf(history, metric, held) {
  return SERIES.filter(({ key }) => Array.isArray(history[key + metric]) && history[key + metric].length)
    .map(({ key, name, className }) => ({ name: key ? held : name, className, values: history[key + metric] }));
}

function chartFigure(plain, technical, chart) {
  return element("figure", { class: "chart" },
    element("figcaption", {}, `${plain} `, element("small", { class: "technical", text: technical })), chart);
}

function legend(series) {
  return element("p", { class: "legend" }, ...series.map(({ name, className }) =>
    element("span", { class: `legend-item ${className}` }, element("span", { class: "swatch", "aria-hidden": "true" }), name)));
}

/** "training from 0.210 to 0.031; validation (…) from 0.102 to 0.040": where each series starts and ends. */
function summary(series, format) {
  return series.map(({ name, values }) => t("{series} from {first} to {last}",
    { series: name, first: format(values[0]), last: format(values[values.length - 1]) })).join("; ");
}
