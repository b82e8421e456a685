/**
 * The confusion matrix as a heat map table of 100 buttons. Clicking a cell shows the test digits behind it:
 * the misclassified ones for a cell off the diagonal, a sample of right answers on the diagonal.
 */

import { element } from "../dom.js";
import { count, t, tn } from "../i18n.js";
import { digitGallery } from "./digit-gallery.js";

const MAX_SHOWN = 60;

export function renderConfusion(report) {
  const matrix = report.confusion_matrix;
  const offDiagonalMax = Math.max(1, ...matrix.flatMap((row, truth) => row.filter((_, p) => p !== truth)));
  const detail = element("div", { class: "cell-detail", "aria-live": "polite" },
    element("p", { class: "muted", text: t("Choose a cell to see its digits.") }));
  const buttons = [];
  const head = element("tr", {}, element("td", { class: "corner" }),
    ...matrix.map((_, p) => element("th", { scope: "col", text: String(p) })));
  const rows = matrix.map((row, truth) => {
    const support = row.reduce((a, b) => a + b, 0);
    return element("tr", {}, element("th", { scope: "row", text: String(truth) }), ...row.map((value, p) => {
      const level = truth === p ? value / Math.max(1, support) : Math.log1p(value) / Math.log1p(offDiagonalMax);
      const button = cellButton(truth, p, value, level);
      button.addEventListener("click", () => {
        buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
        detail.replaceChildren(...cellDigits(report, truth, p, value));
      });
      buttons.push(button);
      return element("td", {}, button);
    }));
  });
  moveFocusWithArrows(buttons);
  const table = element("table", { class: "confusion-table" },
    element("caption", { class: "visually-hidden",
      text: t("Confusion matrix of {name}: rows true digit, columns predicted digit", { name: report.name }) }),
    element("thead", {}, head), element("tbody", {}, ...rows));
  return element("div", { class: "confusion" },
    element("div", { class: "matrix-frame" },
      element("span", { class: "axis axis-x", text: t("predicted digit →") }),
      element("span", { class: "axis axis-y", text: t("true digit →") }),
      table),
    detail);
}

function cellButton(trueDigit, predicted, value, level) {
  const kind = trueDigit === predicted ? "is-right" : "is-wrong";
  const button = element("button", {
    type: "button", class: `cell ${kind}${value === 0 ? " is-zero" : ""}${level > 0.55 ? " is-strong" : ""}`,
    "data-true": trueDigit, "data-predicted": predicted, "aria-pressed": "false", tabindex: "-1",
    "aria-label": tn("True {digit}, predicted {predicted}: {n} test digit",
      "True {digit}, predicted {predicted}: {n} test digits", value, { digit: trueDigit, predicted }),
    text: value === 0 ? "" : String(value) });
  button.style.setProperty("--level", level.toFixed(3));
  return button;
}

/** The test digits of one cell, with a heading that says how many there are. */
function cellDigits(report, trueDigit, predicted, value) {
  const right = trueDigit === predicted;
  const pool = right ? report.correct_samples ?? [] : report.misclassified ?? [];
  const records = pool.filter((r) => r.true === trueDigit && r.predicted === predicted).slice(0, MAX_SHOWN);
  const shown = records.length < value ? records.length : null;
  const heading = element("h4", { text: cellTitle(right, shown, value, { digit: trueDigit, predicted }) });
  if (!value) return [heading, element("p", { class: "muted", text: t("No test digit falls in this cell.") })];
  return [heading, digitGallery(records)];
}

/** "True 3, read as 5: 12 mistakes", with how many are shown when not all are. */
function cellTitle(right, shown, value, digits) {
  const values = { ...digits, shown: count(shown ?? 0) };
  if (right && shown !== null) {
    return tn("True {digit}, read as {predicted}: {n} right answer ({shown} shown, the first in the test set)",
      "True {digit}, read as {predicted}: {n} right answers ({shown} shown, the first in the test set)", value, values);
  }
  if (right) {
    return tn("True {digit}, read as {predicted}: {n} right answer",
      "True {digit}, read as {predicted}: {n} right answers", value, values);
  }
  if (shown !== null) {
    return tn("True {digit}, read as {predicted}: {n} mistake ({shown} shown, the most confident first)",
      "True {digit}, read as {predicted}: {n} mistakes ({shown} shown, the most confident first)", value, values);
  }
  return tn("True {digit}, read as {predicted}: {n} mistake", "True {digit}, read as {predicted}: {n} mistakes", value,
    values);
}

/** One tab stop for the whole matrix; the arrow keys move between cells. */
function moveFocusWithArrows(buttons) {
  const first = buttons.find((b) => !b.classList.contains("is-zero")) ?? buttons[0];
  first.tabIndex = 0;
  const steps = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
  buttons.forEach((button, index) => button.addEventListener("keydown", (event) => {
    const step = steps[event.key];
    if (!step) return;
    event.preventDefault();
    const row = Math.min(9, Math.max(0, Math.floor(index / 10) + step[0]));
    const column = Math.min(9, Math.max(0, (index % 10) + step[1]));
    const next = buttons[row * 10 + column];
    buttons.forEach((b) => { b.tabIndex = b === next ? 0 : -1; });
    next.focus();
  }));
}
