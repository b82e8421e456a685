/**
 * The drawing page: wires the pad, the live predictor and the views together.
 * Other features listen to `digitdraw:prediction` (after every answer shown) and `digitdraw:cleared`.
 */

import { EVERY_MODEL, predict } from "./api.js";
import { percent } from "./dom.js";
import { t } from "./i18n.js";
import { CompareView } from "./draw/compare-view.js";
import { LivePredictor } from "./draw/live-predictor.js";
import { clearNumberBoxes, showNumberBoxes } from "./draw/number-boxes.js";
import { InsideView } from "./draw/inside-view.js";
import { DrawingPad } from "./draw/pad.js";
import { JoinDialog } from "./draw/join-dialog.js";
import { Presenter } from "./draw/presenter.js";
import { ResultView } from "./draw/result-view.js";
import { RoundPanel } from "./draw/round-panel.js";
import { acceptImageFiles } from "./draw/upload.js";
import { addShortcuts } from "./keyboard.js";

const app = document.querySelector("#draw-app");
const predictUrl = app.dataset.predictUrl;
const modelSelect = document.querySelector("#model");
const compareSwitch = document.querySelector("#compare");
const modeInputs = [...document.querySelectorAll('input[name="mode"]')];
const boxes = document.querySelector("#number-boxes");
const undoButton = document.querySelector("#undo");
const clearButton = document.querySelector("#clear");
const eraserButton = document.querySelector("#eraser");

const models = modelSelect
  ? [...modelSelect.options].map((option) => ({
    name: option.value,
    title: option.dataset.title,
    accuracy: option.dataset.accuracy ? Number(option.dataset.accuracy) : null,
    description: option.dataset.description,
  }))
  : [];

const resultPanel = document.querySelector("#result");
const view = new ResultView(resultPanel, { unsureThreshold: Number(app.dataset.unsureThreshold) });
view.showEmpty();
const compareView = new CompareView(document.querySelector("#compare-panel"), models);
const insideRoot = document.querySelector("#inside");
const insideButton = document.querySelector("#look-inside");
const inside = new InsideView(insideRoot, {
  url: insideRoot.dataset.explainUrl,
  titleOf: (name) => models.find((model) => model.name === name)?.title ?? name,
  onToggle: (open) => {
    insideButton?.setAttribute("aria-pressed", String(open));
    document.body.classList.toggle("inside-open", open);
  },
});
let lastDrawing = null;   // {blob, model} of the newest answer, for Look inside
let roundPanel = null;    // the class round, while the teacher runs one

const predictor = new LivePredictor({
  request: askModels,
  onResult: showAnswer,
  onError: showError,
  onBusy: (busy) => resultPanel.setAttribute("aria-busy", String(busy)),
});

const pad = new DrawingPad(document.querySelector("#pad"), {
  onStroke: () => predictor.soon(),
  onStrokeEnd: () => predictor.now(),
  onChange: updateButtons,
});

function currentMode() {
  return modeInputs.find((input) => input.checked).value;
}

function selectedModel() {
  return modelSelect?.value ?? null;
}

/**
 * One request per drawing update: `result` is the selected model's answer; when comparing, the request
 * asks for every model (model=all) and `answers` lists them, otherwise `answers` is null.
 */
async function askModels() {
  if (pad.isEmpty() || !models.length) return null;
  const settled = !pad.active;   // asked once a stroke ended (not while one is drawn): Look inside follows
  const { blob, frame } = await pad.snapshot();
  const mode = currentMode();
  const model = selectedModel();
  if (!compareSwitch.checked) {
    const result = await predict(predictUrl, blob, { model, mode });
    return { blob, frame, mode, model, result, answers: null, settled };
  }
  const { models: answers, ...best } = await predict(predictUrl, blob, { model: EVERY_MODEL, mode });
  const result = { ...best, ...answers.find((answer) => answer.model === model) };
  return { blob, frame, mode, model, result, answers, settled };
}

function showAnswer(answer) {
  if (!answer) {
    showNothingDrawn();
    return;
  }
  const { blob, frame, mode, model, result, answers, settled } = answer;
  view.show(result, mode);
  if (mode === "number") showNumberBoxes(boxes, result.digits, frame);
  else clearNumberBoxes(boxes);
  if (answers) compareView.show(answers, model);
  lastDrawing = mode === "digit" ? { blob, model } : null;
  if (settled) {   // once a stroke has ended, not while drawing
    inside.show(lastDrawing?.blob, model, t("Look inside reads one digit: switch to Digit to see inside the model."));
  }
  document.dispatchEvent(new CustomEvent("digitdraw:prediction", { detail: { blob, result, model, mode } }));
}

function showNothingDrawn() {
  lastDrawing = null;
  inside.show(null);
  view.showEmpty(models.length ? undefined : t("No model is loaded, so nothing can be read."));
  clearNumberBoxes(boxes);
  compareView.show(null, selectedModel());
}

function showError(error) {
  view.showError(error.message);
}

function clearDrawing() {
  predictor.cancel();
  pad.clear();
  showNothingDrawn();
  document.dispatchEvent(new CustomEvent("digitdraw:cleared"));
}

function undoStroke() {
  if (pad.isEmpty()) return;
  pad.undo();
  if (pad.isEmpty()) clearDrawing();
  else predictor.now();
}

function toggleEraser() {
  const erasing = pad.tool !== "eraser";
  pad.setTool(erasing ? "eraser" : "pen");
  eraserButton.setAttribute("aria-pressed", String(erasing));
}

function updateButtons() {
  undoButton.disabled = pad.isEmpty();
  clearButton.disabled = pad.isEmpty();
  roundPanel?.setHasDrawing(!pad.isEmpty());
}

function readFile(file) {
  predictor.cancel();
  pad.showPicture(file);
  predictor.now();
}

/** Under the picker, which shows the plain title: the technical name, the test score and the description. */
function describeModel() {
  const model = models.find((m) => m.name === selectedModel());
  const score = model && model.accuracy !== null
    ? t("{percent} right on test digits", { percent: percent(model.accuracy, 2) }) : "";
  const parts = model ? [model.name, score, model.description] : [];
  const line = document.querySelector("#model-description");
  if (line) line.textContent = parts.filter(Boolean).join(" · ");
}

function setMode() {
  pad.setMode(currentMode());
  predictor.now();
}

undoButton.addEventListener("click", undoStroke);
clearButton.addEventListener("click", clearDrawing);
eraserButton.addEventListener("click", toggleEraser);
modeInputs.forEach((input) => input.addEventListener("change", setMode));
modelSelect?.addEventListener("change", () => {
  describeModel();
  predictor.now();
});
compareSwitch?.addEventListener("change", () => {
  compareView.setVisible(compareSwitch.checked);
  predictor.now();
});
function toggleInside() {
  const open = !inside.isOpen();
  inside.setOpen(open);
  if (open) inside.show(lastDrawing?.blob, lastDrawing?.model);
}

insideButton?.addEventListener("click", toggleInside);
document.querySelector("#inside-close").addEventListener("click", () => inside.setOpen(false));
// A bar of the chart asks the model why (not) that digit, while Look inside is open.
document.querySelector("#bars").addEventListener("click", (event) => {
  const bar = event.target.closest(".bar");
  if (bar && inside.isOpen()) inside.explain(Number(bar.dataset.digit));
});
acceptImageFiles({ input: document.querySelector("#upload"), dropZone: document.querySelector("#pad-surface"),
  onFile: readFile });
roundPanel = new RoundPanel(document.querySelector("#round"), {
  snapshot: async () => (pad.isEmpty() ? null : pad.snapshot()),
  onSent: clearDrawing,
});
const joinDialog = new JoinDialog(document.querySelector("#join-dialog"), document.querySelector("#join"));
new Presenter(document.querySelector("#presenter"), { onFirstStart: (event) => joinDialog.open(event) });

addShortcuts({
  c: clearButton,
  escape: clearButton,
  z: undoButton,
  "ctrl+z": undoButton,
  e: eraserButton,
  p: document.querySelector("#presenter"),
  j: document.querySelector("#join"),
  ...(insideButton ? { l: insideButton } : {}),
});
updateButtons();
describeModel();
