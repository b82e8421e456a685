/** A fine-tuning run's progress lines (written in English by training/finetune.py) in the page's language. */

import { count, percent, t, tn } from "./i18n.js";

const decimals = (text) => (text.split(".")[1] ?? "").length;
const whole = (text) => count(Number(text.replaceAll(",", "")));

const LINES = [
  [/^\[1\/5\] Reading the current version and the collected drawings$/,
    () => t("Reading the current version and the collected drawings")],
  [/^\[2\/5\] Scoring version (\d+) before: (\d+) held-out drawings, ([\d,]+) validation and ([\d,]+) test digits$/,
    (version, held, validation, test) => t(
      "Scoring version {version} before: {held} kept-aside drawings, {validation} validation and {test} test digits",
      { version, held: whole(held), validation: whole(validation), test: whole(test) })],
  [/^\[3\/5\] Training on (\d+) drawings \(x(\d+)\) and ([\d,]+) MNIST digits, (\d+) epochs?$/,
    (drawings, repeats, mnist, epochs) => tn(
      "Training on {drawings} drawings (each {repeats} times) and {mnist} MNIST digits, {n} pass",
      "Training on {drawings} drawings (each {repeats} times) and {mnist} MNIST digits, {n} passes",
      Number(epochs), { drawings: whole(drawings), repeats: whole(repeats), mnist: whole(mnist) })],
  [/^\[4\/5\] Calibrating on the validation digits and scoring after$/,
    () => t("Calibrating on the validation digits and scoring after")],
  [/^\[5\/5\] Publishing the new version$/, () => t("Publishing the new version")],
  [/^epoch (\d+)\/(\d+): loss ([\d.]+), accuracy ([\d.]+)%$/,
    (number, passes, loss, accuracy) => t(
      "Pass {number} of {passes} over the examples: {accuracy} right (mistake score {loss})", {
        number: whole(number), passes: whole(passes),
        accuracy: percent(Number(accuracy) / 100, decimals(accuracy)), loss: count(Number(loss), decimals(loss)) })],
];

/** One progress line in plain words of the page's language; a line it does not know, as it came. The step
 * number ("[2/5] ") is kept when `steps` (the teacher page's log), dropped otherwise (the class's wall). */
export function plainProgress(line, { steps = false } = {}) {
  const trimmed = line.trim();
  const step = steps ? (trimmed.match(/^\[\d\/\d\] /)?.[0] ?? "") : "";
  for (const [pattern, say] of LINES) {
    const found = trimmed.match(pattern);
    if (found) return step + say(...found.slice(1));
  }
  return steps ? trimmed : trimmed.replace(/^\[\d\/\d\] /, "");
}
