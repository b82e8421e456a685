/**
 * "Right" / "Wrong, it's a _" after each prediction of the drawing page.
 * The page announces predictions with the `digitdraw:prediction` event (detail: the PNG blob it
 * sent, the selected model's answer, the model and the mode); the person's answer goes to
 * /api/feedback with that same blob, so the server keeps exactly what the model read.
 */

import { postForm } from "./api.js";
import { addShortcuts } from "./keyboard.js";

const panel = document.getElementById("feedback");
const rightButton = document.getElementById("feedback-right");
const rightDigit = document.getElementById("feedback-right-digit");
const hint = document.getElementById("feedback-hint");
const statusLine = document.getElementById("feedback-status");
const idleHint = hint.textContent;

let pending = null;   // the latest one-digit prediction nobody has answered yet

function setButtonsEnabled(enabled) {
  for (const button of panel.querySelectorAll("button")) {
    button.disabled = !enabled;
  }
}

function showStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("is-error", isError);
}

function offer(prediction) {
  const result = prediction.result;
  const oneDigit = result && result.digit !== null && Array.isArray(result.digits) && result.digits.length === 1;
  pending = oneDigit ? prediction : null;
  setButtonsEnabled(oneDigit);
  rightDigit.textContent = oneDigit ? `, it's a ${result.digit}` : "";
  if (oneDigit) {
    hint.textContent = "Press Enter if it is right, or the digit you drew if it is wrong.";
  } else {
    hint.textContent = result && result.digits && result.digits.length > 1
      ? "A label is one digit: draw a single digit to tell the model whether it was right."
      : idleHint;
  }
  showStatus("");
}

function withdraw() {
  pending = null;
  setButtonsEnabled(false);
  rightDigit.textContent = "";
  hint.textContent = idleHint;
}

function postAnswer(prediction, label) {
  const { blob, result, mode } = prediction;
  return postForm(panel.dataset.feedbackUrl,
    { image: blob, label, prediction: result.digit, model: result.model, mode });
}

async function send(label) {
  const prediction = pending;
  if (!prediction) {
    return;
  }
  withdraw();   // one answer per prediction: a second key press must not store the drawing twice
  showStatus("Saving…");
  try {
    const saved = await postAnswer(prediction, label);
    const verdict = label === prediction.result.digit ? "right" : `it's a ${label}`;
    showStatus(`Thanks, saved as #${saved.id} (${verdict}).`);
  } catch (error) {
    if (pending === null) {   // let the person try again unless a newer drawing replaced this one
      offer(prediction);
    }
    showStatus(`Could not save your answer: ${error.message}`, true);
  }
}

function sayRight() {
  if (pending) send(pending.result.digit);
}

rightButton.addEventListener("click", sayRight);
for (const button of panel.querySelectorAll("button[data-label]")) {
  button.addEventListener("click", () => send(Number(button.dataset.label)));
}
document.addEventListener("digitdraw:prediction", (event) => offer(event.detail));
document.addEventListener("digitdraw:cleared", withdraw);
addShortcuts({
  enter: sayRight,
  y: sayRight,
  ...Object.fromEntries(Array.from({ length: 10 }, (_, digit) => [String(digit), () => send(digit)])),
});
