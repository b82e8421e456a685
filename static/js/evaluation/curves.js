/**
 * Training curves of one model: loss and accuracy per epoch, training digits vs validation digits. A report
 * written before train.py held out its validation digits drew that curve on the test set: its legend says so.
 */

import { element, percent } from "../dom.js";
import { lineChart } from "./line-chart.js";

const SERIES = [
  { key: "", name: "training", className: "train" },
  { key: "val_", name: "validation", className: "validation" },
];

export function renderCurves(report) {
  const history = report.history ?? {};
  const held = report.validation
    ? `validation (${report.validation.images.toLocaleString("en")} training digits held out)`
    : "test digits (trained before the validation split)";
  const loss = seriesOf(history, "loss", held);
  const accuracy = seriesOf(history, "accuracy", held);
  if (!loss.length && !accuracy.length) {
    return element("p", { class: "muted", text: "This report has no training history." });
  }
  const charts = [];
  if (loss.length) {
    const high = Math.max(...loss.flatMap((s) => s.values));
    charts.push(chartFigure("How far off, lower is better", "loss", lineChart({
      label: summary("How far off (loss)", loss, (v) => v.toFixed(3)),
      series: loss, domain: [0, high], format: (v, exact) => v.toFixed(exact ? 4 : 2) })));
  }
  if (accuracy.length) {
    const low = Math.min(...accuracy.flatMap((s) => s.values));
    charts.push(chartFigure("How often right, higher is better", "accuracy", lineChart({
      label: summary("How often right (accuracy)", accuracy, (v) => percent(v)),
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

function summary(metric, series, format) {
  const parts = series.map(({ name, values }) => `${name} from ${format(values[0])} to ${format(values[values.length - 1])}`);
  return `${metric} after each pass over the training digits (epoch): ${parts.join("; ")}.`;
}
