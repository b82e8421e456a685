/**
 * Calibration of one model: a reliability diagram of its test answers before and after temperature scaling,
 * and the expected calibration error (ECE) of each. In a bin of answers given with about 80 % confidence, a
 * calibrated model is right about 80 % of the time: its dots sit on the diagonal.
 */

import { element, percent, svgElement } from "../dom.js";
import { count, t, tn } from "../i18n.js";
import { fixed } from "./format.js";

const SIZE = 240;
const MARGIN = { top: 10, right: 10, bottom: 36, left: 44 };
const PLOT = SIZE - MARGIN.left - MARGIN.right;
const TICKS = [0, 0.25, 0.5, 0.75, 1];

const x = (value) => MARGIN.left + value * PLOT;
const y = (value) => MARGIN.top + (1 - value) * PLOT;

/** A dot's tooltip: how many answers its bin holds, how sure they were and how often right. */
const DOT_TITLES = {
  before: (bin) => tn("before: {n} answer with {confidence} confidence on average, {accuracy} right",
    "before: {n} answers with {confidence} confidence on average, {accuracy} right", bin.count,
    { confidence: percent(bin.confidence), accuracy: percent(bin.accuracy) }),
  after: (bin) => tn("after: {n} answer with {confidence} confidence on average, {accuracy} right",
    "after: {n} answers with {confidence} confidence on average, {accuracy} right", bin.count,
    { confidence: percent(bin.confidence), accuracy: percent(bin.accuracy) }),
};

function reliabilityDiagram(name, before, after) {
  const chart = svgElement("svg", { class: "reliability-chart", viewBox: `0 0 ${SIZE} ${SIZE}`, role: "img",
    "aria-label": t("Reliability of {name} on the test digits: ECE {before} before calibration, {after} after",
      { name, before: percent(before.ece, 2), after: percent(after.ece, 2) }) });
  for (const tick of TICKS) {
    chart.append(
      svgElement("line", { class: "grid", x1: x(0), x2: x(1), y1: y(tick), y2: y(tick) }),
      svgElement("text", { class: "tick", x: x(0) - 6, y: y(tick), "text-anchor": "end", "dominant-baseline": "middle",
        text: percent(tick, 0) }),
      svgElement("text", { class: "tick", x: x(tick), y: y(0) + 14, "text-anchor": "middle", text: percent(tick, 0) }));
  }
  chart.append(
    svgElement("line", { class: "diagonal", x1: x(0), y1: y(0), x2: x(1), y2: y(1) }),
    svgElement("text", { class: "axis-label", x: x(0.5), y: SIZE - 4, "text-anchor": "middle",
      text: t("how sure it was") }),
    svgElement("text", { class: "axis-label", transform: `translate(11 ${y(0.5)}) rotate(-90)`, "text-anchor": "middle",
      text: t("how often right") }));
  for (const [result, className] of [[before, "before"], [after, "after"]]) {
    const points = result.bins.map((bin) => [x(bin.confidence), y(bin.accuracy)]);
    chart.append(svgElement("polyline", { class: `series ${className}`,
      points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ") }));
    result.bins.forEach((bin, index) => chart.append(svgElement("circle", {
      class: `dot ${className}`, cx: points[index][0].toFixed(1), cy: points[index][1].toFixed(1),
      r: Math.min(6, 2 + Math.log10(bin.count)) },
    svgElement("title", { text: DOT_TITLES[className](bin) }))));
  }
  return chart;
}

/** The card body for one model's report; a sentence when the report has no calibration. */
export function renderCalibration(report) {
  const calibration = report.calibration;
  if (!calibration) {
    return element("p", { class: "muted", text: t("This model was trained before calibration: its report has none.") });
  }
  const { before, after } = calibration.test;
  const beforeKey = calibration.activation_before === "sigmoid"
    ? t("before (sigmoids divided by their sum)") : t("before (softmax)");
  return element("div", { class: "calibration" },
    element("dl", { class: "calibration-figures" },
      ...figure(t("Gap between sure and right, before"), t("ECE"), percent(before.ece, 2), "ece-before"),
      ...figure(t("Gap after"), t("ECE"), percent(after.ece, 2), "ece-after"),
      ...figure(t("Scores divided by"), t("temperature"), fixed(calibration.temperature, 3))),
    reliabilityDiagram(report.name, before, after),
    element("p", { class: "legend" },
      element("span", { class: "key before", text: beforeKey }),
      element("span", { class: "key after", text: t("after: what is served") })),
    element("p", { class: "muted small",
      text: fittedNote(calibration.fitted_on, before.bins.reduce((sum, bin) => sum + bin.count, 0)) }));
}

/** Where the temperature was fitted (the report's "validation (5,000 training digits held out)") and on how many
 * test digits the gaps were measured. */
function fittedNote(fittedOn, testDigits) {
  const held = /^validation \(([\d,]+) training digits held out\)$/.exec(fittedOn);
  if (!held) {
    return tn("Temperature fitted on the {data}; gaps (ECE) and dots on the {n} test digit.",
      "Temperature fitted on the {data}; gaps (ECE) and dots on the {n} test digits.", testDigits, { data: fittedOn });
  }
  return tn("Temperature fitted on the validation ({held} training digits held out); gaps (ECE) and dots on the {n} "
    + "test digit.", "Temperature fitted on the validation ({held} training digits held out); gaps (ECE) and dots on "
    + "the {n} test digits.", testDigits, { held: count(Number(held[1].replaceAll(",", ""))) });
}

/** One figure of the list: its plain name with the technical one beside it, and its value. */
function figure(plain, technical, value, className = null) {
  return [element("dt", {}, `${plain} `, element("small", { class: "technical", text: technical })),
    element("dd", { class: className, text: value })];
}
