/**
 * The teacher page's model versions: fine-tune on the collected drawings (a run in its own process on the
 * server, watched here once a second), see the scores before and after, and choose which version everyone
 * is served (publish an earlier or later one: a roll-back).
 */

import { requestJson } from "./api.js";
import { element, percent } from "./dom.js";
import { count, locale, t, tn } from "./i18n.js";
import { plainProgress } from "./finetune-words.js";
import { teacherRequest } from "./teacher.js";

const card = document.getElementById("versions-card");
const modelSelect = document.getElementById("versions-model");
const finetuneButton = document.getElementById("finetune-button");
const run = document.getElementById("finetune-run");
const runState = document.getElementById("finetune-state");
const runLog = document.getElementById("finetune-log");
const resultTable = document.getElementById("finetune-result");
const resultBody = document.getElementById("finetune-result-body");
const versionsBody = document.getElementById("versions-body");
const versionsStatus = document.getElementById("versions-status");
const readiness = document.getElementById("finetune-readiness");
const readinessLine = document.getElementById("finetune-drawings");
const labelCounts = document.getElementById("label-counts");
const labelCountsRow = document.getElementById("label-counts-row");
const oneDevice = document.getElementById("one-device");
const oneDeviceReason = document.getElementById("one-device-reason");
const allowOneDevice = document.getElementById("allow-one-device");
const POLL_MS = 1000;
const READINESS_MS = 5000;   // the counts follow the class's drawings while the page is open

let ready = false;     // the tools are installed and there are enough drawings
let running = false;   // a run is under way

const SCORES = [
  ["held_out_drawings", t("Held-out drawings")],
  ["mnist_validation", t("MNIST validation digits")],
  ["mnist_test", t("MNIST test digits")],
];
const STATES = {
  running: t("Fine-tuning…"),
  published: t("Published: everyone is served the new version within seconds."),
  refused: t("Not published: the current version stays."),
  failed: t("Fine-tuning failed: the current version stays."),
};

const scoreText = (value) => (value === null || value === undefined ? t("none held out") : percent(value, 2));

function versionsUrl(model) {
  return `${card.dataset.modelsUrl}/${encodeURIComponent(model)}/versions`;
}

function learntFrom(version) {
  const on = version.trained_on ?? {};
  if (on.drawings !== undefined) {
    const values = { digits: count(on.mnist_replayed), version: version.parentNumber ?? "?" };
    return version.parent
      ? tn("{n} drawing + {digits} MNIST digits, from version {version}",
        "{n} drawings + {digits} MNIST digits, from version {version}", on.drawings, values)
      : tn("{n} drawing + {digits} MNIST digits", "{n} drawings + {digits} MNIST digits", on.drawings, values);
  }
  return on.images ? tn("{n} MNIST training digit", "{n} MNIST training digits", on.images) : (on.source ?? "");
}

function showError(target, error) {
  target.textContent = error.message;
  target.classList.add("is-error");
}

async function showVersions() {
  const model = modelSelect.value;
  versionsStatus.classList.remove("is-error");
  try {
    const { versions } = await requestJson(versionsUrl(model));
    const numbers = new Map(versions.map((version) => [version.id, version.number]));
    versionsBody.replaceChildren(...versions.map((version) => {
      version.parentNumber = numbers.get(version.parent);
      let action;
      if (version.current) action = element("span", { class: "version-current", text: t("Served now") });
      else if (!version.kept) action = element("span", { class: "muted", text: t("Files no longer kept") });
      else {
        action = element("button", { class: "button", type: "button", "data-version": version.id,
          text: t("Serve version {number}", { number: version.number }) });
      }
      return element("tr", { class: version.current ? "is-current" : null },
        element("th", { scope: "row", text: `${version.number}` }),
        element("td", {
          text: version.origin === "fine-tuned" ? new Date(version.created).toLocaleString(locale) : t("shipped") }),
        element("td", { text: learntFrom(version) }),
        element("td", { text: version.test_accuracy == null ? "" : percent(version.test_accuracy, 2) }),
        element("td", {}, action));
    }));
  } catch (error) {
    showError(versionsStatus, error);
  }
}

versionsBody.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-version]");
  if (!button) return;
  button.disabled = true;
  versionsStatus.classList.remove("is-error");
  try {
    const version = await teacherRequest("POST", `${versionsUrl(modelSelect.value)}/${button.dataset.version}/serve`);
    versionsStatus.textContent = t("Everyone is served {model} version {number} within seconds.",
      { model: version.model, number: version.number });
    await showVersions();
  } catch (error) {
    showError(versionsStatus, error);
    button.disabled = false;
  }
});

function showRun(job) {
  if (!job) return;
  run.hidden = false;
  runState.classList.toggle("is-error", job.state === "failed");
  const line = [t("{model}: {state}", { model: job.model, state: STATES[job.state] ?? job.state })];
  if (job.result?.seconds) line.push(t("({seconds} s)", { seconds: count(Math.round(job.result.seconds)) }));
  if (job.result?.reason) line.push(job.result.reason);
  runState.textContent = line.join(" ");
  runLog.textContent = job.progress.map((line) => plainProgress(line, { steps: true })).join("\n");
  const { before, after } = job.result ?? {};
  resultTable.hidden = !(before && after);
  if (before && after) {
    resultBody.replaceChildren(...SCORES.map(([key, label]) => element("tr", {},
      element("th", { scope: "row", text: label }),
      element("td", { text: scoreText(before[key]) }),
      element("td", { text: scoreText(after[key]) }))));
  }
  running = job.state === "running";
  updateButton();
}

function updateButton() {
  finetuneButton.disabled = running || !ready;
}

function readinessText(state) {
  const values = { needed: count(state.needed), minimum: count(state.minimum), held_out: count(state.held_out),
    to_learn_from: count(state.to_learn_from), drawings: tn("{n} drawing", "{n} drawings", state.drawings) };
  if (state.needed > 0) {
    return state.students > 0
      ? tn("{drawings} from {n} student so far: collect {needed} more to fine-tune (it needs {minimum}, and keeps "
        + "{held_out} of them aside to check the new version).", "{drawings} from {n} students so far: collect "
        + "{needed} more to fine-tune (it needs {minimum}, and keeps {held_out} of them aside to check the new "
        + "version).", state.students, values)
      : t("{drawings} so far: collect {needed} more to fine-tune (it needs {minimum}, and keeps {held_out} of them "
        + "aside to check the new version).", values);
  }
  const sentence = state.students > 0
    ? tn("{drawings} from {n} student: {held_out} are kept aside to check the new version, and it learns from "
      + "the other {to_learn_from}.", "{drawings} from {n} students: {held_out} are kept aside to check the new "
      + "version, and it learns from the other {to_learn_from}.", state.students, values)
    : t("{drawings}: {held_out} are kept aside to check the new version, and it learns from the other "
      + "{to_learn_from}.", values);
  return sentence + missingText(state.per_label);
}

/** " No drawings of 3 or 5 yet: it cannot learn them from this class." for the digits nobody drew. */
function missingText(perLabel) {
  const missing = perLabel.flatMap((drawings, digit) => (drawings === 0 ? [count(digit)] : []));
  if (missing.length === 0 || missing.length === perLabel.length) return "";
  // British English lists "3, 4 or 5" as these sentences always have; other languages their own way.
  const listed = new Intl.ListFormat(locale === "en" ? "en-GB" : locale, { type: "disjunction" }).format(missing);
  return " " + tn("No drawings of {digits} yet: it cannot learn that digit from this class.",
    "No drawings of {digits} yet: it cannot learn those digits from this class.", missing.length, { digits: listed });
}

async function showReadiness() {
  try {
    const state = await teacherRequest("GET", readiness.dataset.url);
    ready = state.ready;
    readinessLine.textContent = readinessText(state);
    oneDevice.hidden = !state.one_device_reason;
    oneDeviceReason.textContent = state.one_device_reason ?? "";
    readinessLine.classList.remove("is-error");
    labelCountsRow.replaceChildren(labelCountsRow.firstElementChild, ...state.per_label.map((drawings) =>
      element("td", { class: drawings === 0 ? "is-missing" : null, text: count(drawings) })));
    labelCounts.hidden = state.drawings === 0;
  } catch (error) {
    showError(readinessLine, error);
  }
  updateButton();
}

function followReadiness() {
  if (document.visibilityState === "visible") showReadiness();
  setTimeout(followReadiness, READINESS_MS);
}

async function watch() {
  try {
    const job = await teacherRequest("GET", card.dataset.finetuneUrl);
    showRun(job);
    if (job?.state === "running") {
      setTimeout(watch, POLL_MS);
    } else if (job) {
      await Promise.all([showVersions(), showReadiness()]);
    }
  } catch (error) {
    showError(runState, error);
    run.hidden = false;
    if (error.status !== 403) setTimeout(watch, POLL_MS * 5);   // signed out: the sentence says to sign in
  }
}

finetuneButton.addEventListener("click", async () => {
  finetuneButton.disabled = true;
  runState.classList.remove("is-error");
  try {
    showRun(await teacherRequest("POST", card.dataset.finetuneUrl, { model: modelSelect.value,
      allow_one_device: allowOneDevice.checked }));
    setTimeout(watch, POLL_MS);
  } catch (error) {
    run.hidden = false;
    showError(runState, error);
    updateButton();
  }
});

modelSelect.addEventListener("change", showVersions);

async function start() {
  try {
    const models = await requestJson(card.dataset.modelsUrl);
    modelSelect.replaceChildren(...models.map((model) => element("option",
      { value: model.name, text: `${model.title} (${model.name})` })));
  } catch (error) {
    showError(versionsStatus, error);
    return;
  }
  await showVersions();
  followReadiness();
  await watch();
}

start();
