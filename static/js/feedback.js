/**
 * "Right" / "Wrong, it's a _" after each prediction of the drawing page.
 * The page announces predictions with the `digitdraw:prediction` event (detail: the PNG blob it
 * sent, the selected model's answer, the model and the mode); the person's answer goes to
 * /api/feedback with that same blob, so the server keeps exactly what the model read.
 * Every stored answer is confirmed with an Undo for a few seconds. When the teacher turns collecting
 * off the panel disappears (its keys with it); the page asks the server now and then whether it is on.
 */

import { postForm, requestJson } from "./api.js";
import { addShortcuts } from "./keyboard.js";

const UNDO_SHOWN_MS = 8000;             // the Undo button stays this long after a save
const COLLECTING_CHECK_MS = 15000;      // at most one check of the teacher's setting in this time

const panel = document.getElementById("feedback");
const rightButton = document.getElementById("feedback-right");
const rightDigit = document.getElementById("feedback-right-digit");
const hint = document.getElementById("feedback-hint");
const statusLine = document.getElementById("feedback-status");
const undoButton = document.getElementById("feedback-undo");
const digitButtons = [...panel.querySelectorAll("button[data-label]")];
const idleHint = hint.textContent;
const usesKeys = !matchMedia("(hover: none), (pointer: coarse)").matches;

let pending = null;      // the latest one-digit prediction nobody has answered yet
let lastSaved = null;    // {ids, undo} of the answer the Undo button takes back
let undoTimer = 0;
let collectingCheckedAt = Date.now();

function setButtonsEnabled(enabled) {
  rightButton.disabled = !enabled;
  for (const button of digitButtons) button.disabled = !enabled;
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
    hint.textContent = usesKeys
      ? "Press Enter if it is right, or the digit you drew if it is wrong."
      : "Is it right? Tap Right, or the digit you drew. Your drawing is kept.";
  } else {
    hint.textContent = result && result.digits && result.digits.length > 1
      ? "A label is one digit: draw a single digit to tell the model whether it was right."
      : idleHint;
  }
  if (!lastSaved) showStatus("");
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

function offerUndo(saved) {
  lastSaved = { ids: saved.ids ?? [saved.id], undo: saved.undo };
  undoButton.hidden = false;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(endUndo, UNDO_SHOWN_MS);
}

function endUndo() {
  clearTimeout(undoTimer);
  lastSaved = null;
  undoButton.hidden = true;
}

async function send(label) {
  const prediction = pending;
  if (!prediction) {
    return;
  }
  withdraw();   // one answer per prediction: a second key press must not store the drawing twice
  endUndo();
  showStatus("Saving…");
  try {
    const saved = await postAnswer(prediction, label);
    const verdict = label === prediction.result.digit ? "right" : `it's a ${label}`;
    showStatus(`Thanks, saved as #${saved.id} (${verdict}).`);
    offerUndo(saved);
  } catch (error) {
    if (pending === null) {   // let the person try again unless a newer drawing replaced this one
      offer(prediction);
    }
    showStatus(`Could not save your answer: ${error.message}`, true);
    if (error.status === 403) checkCollecting();   // the teacher turned collecting off? then the panel goes
  }
}

async function undo() {
  const saved = lastSaved;
  if (!saved) return;
  endUndo();
  showStatus("Taking it back…");
  try {
    await postForm(panel.dataset.undoUrl, { undo: saved.undo });
    showStatus(`Taken back: drawing #${saved.ids.join(", #")} is deleted.`);
  } catch (error) {
    showStatus(`Could not take it back: ${error.message}`, true);
  }
}

function showCollecting(collecting) {
  if (panel.hidden === !collecting) return;
  panel.hidden = !collecting;
  if (!collecting) {
    endUndo();
    showStatus("");
  }
}

async function checkCollecting() {
  collectingCheckedAt = Date.now();
  try {
    const { collecting } = await requestJson(panel.dataset.classroomUrl);
    showCollecting(collecting);
  } catch {
    // offline for a moment: keep what the page shows; the next prediction asks again
  }
}

function checkCollectingNowAndThen() {
  if (Date.now() - collectingCheckedAt >= COLLECTING_CHECK_MS) checkCollecting();
}

function sayRight() {
  if (pending) send(pending.result.digit);
}

rightButton.addEventListener("click", sayRight);
for (const button of digitButtons) {
  button.addEventListener("click", () => send(Number(button.dataset.label)));
}
undoButton.addEventListener("click", undo);
document.addEventListener("digitdraw:prediction", (event) => {
  offer(event.detail);
  checkCollectingNowAndThen();
});
document.addEventListener("digitdraw:cleared", withdraw);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") checkCollectingNowAndThen();
});
addShortcuts({
  enter: rightButton,
  y: rightButton,
  u: undoButton,
  ...Object.fromEntries(digitButtons.map((button) => [button.dataset.label, button])),
});
