/**
 * "Compare two versions" on /drawings and /evaluation (templates/_version_diff.html, the signed-in teacher only):
 * choose a model and two of its versions (to start with, the one served now and the one it was made from) and see
 * which of the class's drawings one reads right and the other wrong: a sentence, a table per digit, and the changed
 * drawings as the 28x28 images the model reads.
 *
 * GET /api/models/<name>/versions/diff reads a bounded number of drawings per request and says how many are left
 * (`complete`, `left`): the panel says how many are left and asks again every ASK_AGAIN_MS until none are (not
 * while the tab is hidden; after a failure that may pass, a few times, each wait longer), then shows the
 * comparison the last answer carries.
 */

import { requestJson } from "./api.js";
import { element, percent } from "./dom.js";
import { count, t, tn } from "./i18n.js";
import { takesAn } from "./words.js";

const ASK_AGAIN_MS = 300;
const TRIES = 4;   // failures in a row (each wait twice the last, 1.2 s to 9.6 s) before the panel gives up and says why

const panel = document.getElementById("version-diff");
const modelSelect = document.getElementById("vd-model");
const fromSelect = document.getElementById("vd-from");
const toSelect = document.getElementById("vd-to");
const pair = document.getElementById("vd-pair");
const status = document.getElementById("vd-status");
const result = document.getElementById("vd-result");
const summary = document.getElementById("vd-summary");
const mnistLine = document.getElementById("vd-mnist");
const headOld = document.getElementById("vd-head-old");
const headNew = document.getElementById("vd-head-new");
const digitsBody = document.getElementById("vd-digits-body");
const digitsTotal = document.getElementById("vd-digits-total");

const COLUMNS = ["read", "old_right", "new_right", "wrong_to_right", "right_to_wrong"];
const models = new Map();   // name -> {name, title, versions: the kept ones, newest first}
let turn = 0;               // each comparison's number: an answer for an earlier one is dropped
let asking = null;          // the AbortController of the request under way

/** Wait `ms`, and then while the tab is hidden (nothing is asked for a page nobody looks at). */
async function pause(ms) {
  await new Promise((done) => { setTimeout(done, ms); });
  if (document.visibilityState === "visible") return;
  await new Promise((done) => {
    document.addEventListener("visibilitychange", function shown() {
      if (document.visibilityState !== "visible") return;
      document.removeEventListener("visibilitychange", shown);
      done();
    });
  });
}

/** A failure worth asking again for: no answer at all (flaky wifi), too many requests, or the server's own trouble. */
const passing = (error) => error.status === undefined || error.status === 429 || error.status >= 500;

function versionsUrl(name) {
  return `${panel.dataset.modelsUrl}/${encodeURIComponent(name)}/versions`;
}

function say(text, state, { error = false } = {}) {
  status.textContent = text;
  status.classList.toggle("is-error", error);
  panel.dataset.state = state;
}

/** Versions the server can still compare: stored (an id) with their files kept, newest first. */
function comparable(versions) {
  return versions.filter((version) => version.id !== null && version.kept);
}

async function loadModels() {
  const listed = await requestJson(panel.dataset.modelsUrl);
  const versions = await Promise.all(listed.map((model) => requestJson(versionsUrl(model.name))));
  listed.forEach((model, index) => {
    models.set(model.name, { name: model.name, title: model.title, versions: comparable(versions[index].versions) });
  });
}

function fillModels() {
  modelSelect.replaceChildren(...[...models.values()].map((model) => element("option", {
    value: model.name,
    text: model.versions.length < 2 ? t("{title} · {name} (one version)", model) : `${model.title} · ${model.name}`,
  })));
  const first = [...models.values()].find((model) => model.versions.length >= 2);
  if (first) modelSelect.value = first.name;
  modelSelect.disabled = models.size === 0;
}

function versionOption(version) {
  return element("option", { value: version.id, text: version.current
    ? t("Version {number} (served now)", version) : t("Version {number}", version) });
}

/** The versions of the chosen model in both lists: after = the served one, before = the one it was made from. */
function fillVersions() {
  const model = models.get(modelSelect.value);
  const versions = model?.versions ?? [];
  const two = versions.length >= 2;
  pair.hidden = !two;
  fromSelect.disabled = toSelect.disabled = !two;
  if (!two) {
    fromSelect.replaceChildren();
    toSelect.replaceChildren();
    return false;
  }
  const after = versions.find((version) => version.current) ?? versions[0];
  const before = versions.find((version) => version.id === after.parent)
    ?? versions.find((version) => version.id !== after.id);
  fromSelect.replaceChildren(...versions.map(versionOption));
  toSelect.replaceChildren(...versions.map(versionOption));
  fromSelect.value = String(before.id);
  toSelect.value = String(after.id);
  return true;
}

function stopAsking() {
  turn += 1;
  asking?.abort();
  asking = null;
}

function showOneVersion() {
  stopAsking();
  result.hidden = true;
  const model = models.get(modelSelect.value);
  if (!model) {
    say(t("No model is loaded on this server, so there is nothing to compare."), "none");
    return;
  }
  say(t("{title} has only one version so far. Fine-tune or teach the model to get a second version to compare.",
    model), "one-version");
}

function summaryText(diff) {
  const { totals } = diff;
  if (!totals.read) {
    return t("No drawings to compare yet: the drawings the class labels show here once both versions have read them.");
  }
  return tn("Version {to} reads {newRight} of {n} drawing right, version {from} read {oldRight}: "
    + "{wrongToRight} went from wrong to right, {rightToWrong} from right to wrong.",
  "Version {to} reads {newRight} of {n} drawings right, version {from} read {oldRight}: "
    + "{wrongToRight} went from wrong to right, {rightToWrong} from right to wrong.", totals.read, {
    to: diff.to.number, from: diff.from.number, newRight: count(totals.new_right), oldRight: count(totals.old_right),
    wrongToRight: count(totals.wrong_to_right), rightToWrong: count(totals.right_to_wrong) });
}

function mnistText(diff) {
  const before = diff.from.test_accuracy;
  const after = diff.to.test_accuracy;
  if (typeof before !== "number" || typeof after !== "number") return "";
  return t("On the {count} MNIST test digits: version {from} {before}, version {to} {after}.", { count: count(10000),
    from: diff.from.number, before: percent(before, 2), to: diff.to.number, after: percent(after, 2) });
}

function digitRow(cells, { head, key }) {
  return element("tr", { "data-digit": key },
    element("th", { scope: "row", text: head }),
    ...COLUMNS.map((column) => element("td", {
      "data-key": column,
      class: (column === "wrong_to_right" || column === "right_to_wrong") && cells[column] ? `vd-${column}` : null,
      text: count(cells[column]),
    })));
}

function thumbnail(item, diff) {
  const values = { id: item.id, digit: item.label, from: diff.from.number, to: diff.to.number, old: item.old,
    new: item.new };
  values.said = t("version {from} read {old}, version {to} reads {new}", values);
  return element("li", { class: "vd-thumb", "data-id": item.id, title: t("Drawing #{id}: {said}", values) },
    element("img", { src: item.input, width: 28, height: 28, class: "pixelated",
      alt: takesAn(item.label) ? t("Drawing #{id}, an {digit}: {said}", values)
        : t("Drawing #{id}, a {digit}: {said}", values) }),
    element("span", { class: "vd-caption", text: t("{digit}: {old} → {new}", values) }));
}

/** The words of each list of changed drawings: its heading, what it holds, and what it says when empty. */
const DIRECTIONS = {
  wrong_to_right: {
    heading: (total) => tn("From wrong to right: {n} drawing", "From wrong to right: {n} drawings", total),
    read: (versions) => t("Version {from} read these wrong, version {to} reads them right.", versions),
    none: () => t("None: no drawing went from wrong to right."),
  },
  right_to_wrong: {
    heading: (total) => tn("From right to wrong: {n} drawing", "From right to wrong: {n} drawings", total),
    read: (versions) => t("Version {from} read these right, version {to} reads them wrong.", versions),
    none: () => t("None: no drawing went from right to wrong."),
  },
};

function showList(section, items, total, diff) {
  const words = DIRECTIONS[section.dataset.direction];
  const versions = { from: diff.from.number, to: diff.to.number };
  section.querySelector("h3").textContent = words.heading(total);
  const sentences = [words.read(versions),
    t("Under each: the digit drawn, then what version {from} read → what version {to} reads.", versions)];
  if (items.length < total) sentences.push(tn("The newest {n} is shown.", "The newest {n} are shown.", items.length));
  section.querySelector(".vd-list-note").textContent = total ? sentences.join(" ") : words.none();
  section.querySelector(".vd-thumbs").replaceChildren(...items.map((item) => thumbnail(item, diff)));
}

function showDiff(diff) {
  result.hidden = false;
  panel.dataset.from = diff.from.id;
  panel.dataset.to = diff.to.id;
  summary.textContent = summaryText(diff);
  mnistLine.textContent = mnistText(diff);
  headOld.textContent = t("Right with version {number}", diff.from);
  headNew.textContent = t("Right with version {number}", diff.to);
  digitsBody.replaceChildren(...diff.per_digit.map((row) => digitRow(row, { head: String(row.digit), key: row.digit })));
  digitsTotal.replaceChildren(digitRow(diff.totals, { head: t("All"), key: "all" }));
  for (const section of panel.querySelectorAll(".vd-changes")) {
    const direction = section.dataset.direction;
    showList(section, diff[direction], diff.totals[direction], diff);
  }
}

/** Ask for the chosen comparison until every drawing is read by both versions (or another one is chosen). */
async function compare() {
  stopAsking();
  const mine = turn;
  const name = modelSelect.value;
  if (fromSelect.value === toSelect.value) {
    result.hidden = true;
    say(t("Choose two different versions to compare."), "same");
    return;
  }
  const url = `${versionsUrl(name)}/diff?${new URLSearchParams({ from: fromSelect.value, to: toSelect.value })}`;
  say(t("Reading the drawings with both versions…"), "reading");
  let failures = 0;
  for (;;) {
    asking = new AbortController();
    let diff;
    try {
      diff = await requestJson(url, { signal: asking.signal });
    } catch (error) {
      if (mine !== turn || error.name === "AbortError") return;
      if (!passing(error) || failures === TRIES) {
        result.hidden = true;
        say(error.message, "error", { error: true });
        return;
      }
      failures += 1;
      say(t("{error} Trying again…", { error: error.message }), "reading", { error: true });
      await pause(ASK_AGAIN_MS * 2 ** (failures + 1));
      if (mine !== turn) return;
      continue;
    }
    if (mine !== turn) return;
    failures = 0;
    if (diff.complete) showDiff(diff);   // the server compares once both versions have read every drawing
    else result.hidden = true;
    if (diff.complete) {
      say("", "done");
      return;
    }
    say(tn("Reading… {n} drawing left", "Reading… {n} drawings left", diff.left), "reading");
    await pause(ASK_AGAIN_MS);
    if (mine !== turn) return;
  }
}

function chooseModel() {
  if (fillVersions()) compare();
  else showOneVersion();
}

modelSelect.addEventListener("change", chooseModel);
fromSelect.addEventListener("change", compare);
toSelect.addEventListener("change", compare);

try {
  await loadModels();
  fillModels();
  chooseModel();
} catch (error) {
  say(error.message, "error", { error: true });
}
