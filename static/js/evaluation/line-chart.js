/** A small SVG line chart: values per epoch, one line per series, ticks at round numbers. */

import { svgElement } from "../dom.js";
import { count, t } from "../i18n.js";

const WIDTH = 360;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 14, bottom: 38, left: 50 };

/** Round tick values from at or below `low` to at or above `high`, about `wanted` of them. */
export function niceTicks(low, high, wanted = 5) {
  const span = high - low || Math.abs(high) || 1;
  const rough = span / wanted;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const ticks = [];
  for (let value = Math.floor(low / step + 1e-9) * step; value < high + step - step * 1e-6; value += step) {
    ticks.push(Number(value.toFixed(10)));
  }
  return ticks;
}

/**
 * `series`: [{name, values, className}], values indexed by epoch - 1; `domain`: [low, high] the y axis must
 * cover (widened to round ticks);
 * `format`: y value -> tick label. Returns an <svg> that scales with its container.
 */
export function lineChart({ label, series, domain: [low, high], format }) {
  const ticks = niceTicks(low, high);
  const domain = [ticks[0], ticks[ticks.length - 1]];
  const epochs = Math.max(...series.map((s) => s.values.length));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (epoch) => MARGIN.left + (epochs === 1 ? plotWidth / 2 : ((epoch - 1) / (epochs - 1)) * plotWidth);
  const y = (value) => MARGIN.top + (1 - (value - domain[0]) / (domain[1] - domain[0])) * plotHeight;

  const chart = svgElement("svg", { class: "line-chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
    "aria-label": label });
  for (const tick of ticks) {
    chart.append(
      svgElement("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }),
      svgElement("text", { class: "tick", x: MARGIN.left - 6, y: y(tick), "text-anchor": "end",
        "dominant-baseline": "middle", text: format(tick) }));
  }
  for (const epoch of epochTicks(epochs)) {
    chart.append(svgElement("text", { class: "tick", x: x(epoch), y: HEIGHT - MARGIN.bottom + 16,
      "text-anchor": "middle", text: count(epoch) }));
  }
  chart.append(svgElement("text", { class: "axis-label", x: MARGIN.left + plotWidth / 2, y: HEIGHT - 4,
    "text-anchor": "middle", text: t("passes over the training digits (epochs)") }));
  for (const { name, values, className } of series) {
    const points = values.map((value, index) => [x(index + 1), y(value)]);
    chart.append(svgElement("polyline", { class: `series ${className}`,
      points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ") }));
    values.forEach((value, index) => chart.append(svgElement("circle", { class: `dot ${className}`,
      cx: points[index][0].toFixed(1), cy: points[index][1].toFixed(1), r: 3 },
    svgElement("title", { text: t("{series}, epoch {epoch}: {value}",
      { series: name, epoch: count(index + 1), value: format(value, true) }) }))));
  }
  return chart;
}

/** Every epoch when there are few, otherwise about eight evenly spaced ones. */
function epochTicks(epochs) {
  const step = Math.max(1, Math.ceil(epochs / 8));
  const ticks = [];
  for (let epoch = 1; epoch <= epochs; epoch += step) ticks.push(epoch);
  return ticks;
}
