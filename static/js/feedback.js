/**
 * "Right" / "Wrong? It's _" after each prediction of the drawing page.
 * The page announces predictions with the `digitdraw:prediction` event (detail: the PNG blob it
 * sent, the selected model's answer, the model and the mode); the person's answer goes to
 * /api/feedback with that same blob, so the server keeps exactly what the model read.
 * Every stored answer is confirmed with an Undo for a few seconds. The page asks the server every few seconds
 * whether the teacher collects drawings: a page opened while collecting was off shows no panel until it is turned
 * on; turned off under the person, Right/Wrong give way to a sentence that says so (their keys go with them).
 */

import { takesAn } from "./words.js";
import { postForm, requestJson } from "./api.js";
import { t } from "./i18n.js";
import { addShortcuts } from "./keyboard.js";
import { askEvery } from "./poll.js";

const UNDO_SHOWN_MS = 8000;             // the Undo button stays this long after a save
const COLLECTING_CHECK_MS = 4000;       // how often the teacher's setting is asked while the page is in view
const PAUSED = t("Your teacher has paused saving drawings.");

const panel = document.getElementById("feedback");
const rightButton = document.getElementById("feedback-right");
const rightLabel = rightButton.querySelector("span");   // "Right", or "Right, it's a 7" once there is an answer
const rightWord = rightLabel.textContent;
const hint = document.getElementById("feedback-hint");
const statusLine = document.getElementById("feedback-status");
const actions = panel.querySelector(".feedback-actions");
const undoButton = document.getElementById("feedback-undo");
const digitButtons = [...panel.querySelectorAll("button[data-label]")];
const idleHint = hint.textContent;
const usesKeys = !matchMedia("(hover: none), (pointer: coarse)").matches;

let pending = null;      // the latest one-digit prediction nobody has answered yet
let lastSaved = null;    // {ids, undo} of the answer the Undo button takes back
let undoTimer = 0;
let collecting = !panel.hidden;

function setButtonsEnabled(enabled) {
  rightButton.disabled = !enabled;
  for (const button of digitButtons) button.disabled = !enabled;
}

/** `tone`: "" (done), "error" or "note" (neither good nor bad news). */
function showStatus(text, tone = "") {
  statusLine.textContent = text;
  statusLine.classList.toggle("is-error", tone === "error");
  statusLine.classList.toggle("is-note", tone === "note");
}

function offer(prediction) {
  const result = prediction.result;
  const oneDigit = result && result.digit !== null && Array.isArray(result.digits) && result.digits.length === 1;
  pending = oneDigit ? prediction : null;
  setButtonsEnabled(oneDigit);
  rightLabel.textContent = oneDigit ? rightSaying(result.digit) : rightWord;
  if (oneDigit) {
    hint.textContent = usesKeys
      ? t("Press Enter if it is right, or the digit you drew if it is wrong.")
      : t("Is it right? Tap Right, or the digit you drew. Your drawing is kept.");
  } else {
    hint.textContent = result && result.digits && result.digits.length > 1
      ? t("A label is one digit: draw a single digit to tell the model whether it was right.")
      : idleHint;
  }
  if (!lastSaved && collecting) showStatus("");
}

function rightSaying(digit) {
  return takesAn(digit) ? t("Right, it's an {digit}", { digit }) : t("Right, it's a {digit}", { digit });
}

function withdraw() {
  pending = null;
  setButtonsEnabled(false);
  rightLabel.textContent = rightWord;
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
  showStatus(t("Saving…"));
  try {
    const saved = await postAnswer(prediction, label);
    showStatus(t("Thanks! Your drawing is saved."));
    offerUndo(saved);
  } catch (error) {
    if (pending === null) {   // let the person try again unless a newer drawing replaced this one
      offer(prediction);
    }
    if (error.status === 403 && await checkCollecting() && !collecting) return;   // the sentence says why
    showStatus(t("Could not save your answer: {error}", { error: error.message }), "error");
  }
}

async function undo() {
  const saved = lastSaved;
  if (!saved) return;
  endUndo();
  showStatus(t("Taking it back…"));
  try {
    await postForm(panel.dataset.undoUrl, { undo: saved.undo });
    showStatus(t("Taken back: your drawing is deleted."));
  } catch (error) {
    showStatus(t("Could not take it back: {error}", { error: error.message }), "error");
  }
}

/** Saving is off: on a panel the person can see, Right/Wrong give way to the sentence; a hidden one stays so. */
function pause() {
  endUndo();
  if (panel.hidden) return;
  actions.hidden = true;
  hint.hidden = true;
  showStatus(PAUSED, "note");
}

function resume() {
  panel.hidden = false;
  actions.hidden = false;
  hint.hidden = false;
  if (statusLine.textContent === PAUSED) showStatus("");
}

function showCollecting(on) {
  if (on === collecting) return;
  collecting = on;
  if (on) resume();
  else pause();
}

/** Ask whether the teacher collects drawings and show it; false when the server could not be asked. */
async function checkCollecting() {
  try {
    const classroom = await requestJson(panel.dataset.classroomUrl);
    showCollecting(classroom.collecting);
    return true;
  } catch {
    return false;   // a phone offline for a moment: the page keeps what it shows, and askEvery asks again later
  }
}

function sayRight() {
  if (pending) send(pending.result.digit);
}

rightButton.addEventListener("click", sayRight);
for (const button of digitButtons) {
  button.addEventListener("click", () => send(Number(button.dataset.label)));
}
undoButton.addEventListener("click", undo);
document.addEventListener("digitdraw:prediction", (event) => offer(event.detail));
document.addEventListener("digitdraw:cleared", withdraw);
askEvery(COLLECTING_CHECK_MS, checkCollecting);
addShortcuts({
  enter: rightButton,
  y: rightButton,
  u: undoButton,
  ...Object.fromEntries(digitButtons.map((button) => [button.dataset.label, button])),
});
