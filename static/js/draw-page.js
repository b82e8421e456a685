/**
 * The drawing page: wires the pad, the live predictor and the views together.
 * Other features listen to `digitdraw:prediction` (after every answer shown) and `digitdraw:cleared`.
 */

import { EVERY_MODEL, predict } from "./api.js";
import { CompareView } from "./draw/compare-view.js";
import { LivePredictor } from "./draw/live-predictor.js";
import { clearNumberBoxes, showNumberBoxes } from "./draw/number-boxes.js";
import { DrawingPad } from "./draw/pad.js";
import { JoinDialog } from "./draw/join-dialog.js";
import { Presenter } from "./draw/presenter.js";
import { ResultView } from "./draw/result-view.js";
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
    accuracy: option.dataset.accuracy ? Number(option.dataset.accuracy) : null,
    description: option.dataset.description,
  }))
  : [];

const resultPanel = document.querySelector("#result");
const view = new ResultView(resultPanel, { unsureThreshold: Number(app.dataset.unsureThreshold) });
view.showEmpty();
const compareView = new CompareView(document.querySelector("#compare-panel"), models);

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
  const { blob, frame } = await pad.snapshot();
  const mode = currentMode();
  const model = selectedModel();
  if (!compareSwitch.checked) {
    const result = await predict(predictUrl, blob, { model, mode });
    return { blob, frame, mode, model, result, answers: null };
  }
  const { models: answers, ...best } = await predict(predictUrl, blob, { model: EVERY_MODEL, mode });
  const result = { ...best, ...answers.find((answer) => answer.model === model) };
  return { blob, frame, mode, model, result, answers };
}

function showAnswer(answer) {
  if (!answer) {
    showNothingDrawn();
    return;
  }
  const { blob, frame, mode, model, result, answers } = answer;
  view.show(result, mode);
  if (mode === "number") showNumberBoxes(boxes, result.digits, frame);
  else clearNumberBoxes(boxes);
  if (answers) compareView.show(answers, model);
  document.dispatchEvent(new CustomEvent("digitdraw:prediction", { detail: { blob, result, model, mode } }));
}

function showNothingDrawn() {
  view.showEmpty(models.length ? undefined : "No model is loaded, so nothing can be read.");
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
}

function readFile(file) {
  predictor.cancel();
  pad.showPicture(file);
  predictor.now();
}

function describeModel() {
  const model = models.find((m) => m.name === selectedModel());
  document.querySelector("#model-description").textContent = model?.description ?? "";
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
acceptImageFiles({ input: document.querySelector("#upload"), dropZone: document.querySelector("#pad-surface"),
  onFile: readFile });
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
});
updateButtons();
