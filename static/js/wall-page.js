/**
 * The class's wall: the teacher starts, pauses and ends rounds; the class's drawings arrive as tiles over
 * server-sent events (GET /api/rounds/<id>/events; the browser's EventSource reconnects by itself with the last
 * drawing's id, and the server sends what came after it), with how the served model read each, the counts,
 * every model's accuracy and the confusion matrix (GET /api/rounds/<id>). A square of the matrix shows its
 * drawings; a tile opens Look inside for that drawing; × hides a tile (from every wall and from the store).
 * When the round ends: the summary, the misread drawings first, and the class's per-digit accuracy beside MNIST's.
 * A "fool the model" round shows the drawings that fooled it first, how sure the model was, and who fooled it how
 * often; × there marks a drawing unfair. Teaching and the replay: static/js/wall/teach-panel.js.
 */

import { requestJson } from "./api.js";
import { element, percent } from "./dom.js";
import { InsideView } from "./draw/inside-view.js";
import { count, t, tn } from "./i18n.js";
import { askEvery } from "./poll.js";
import { teacherRequest } from "./teacher.js";
import { roundPrompt, takesAn } from "./words.js";
import { TeachPanel } from "./wall/teach-panel.js";

const ROUND_CHECK_MS = 2000;     // a round started elsewhere (the teacher page, another wall) shows this soon
const REPORT_AFTER_MS = 400;     // the counts follow a burst of drawings at most this often
const STREAM_RETRY_MS = 3000;    // a refused stream is opened again this long after

const wall = document.querySelector("#wall");
const roundsUrl = wall.dataset.roundsUrl;
const models = JSON.parse(wall.dataset.models);
const $ = (selector) => document.querySelector(selector);
const tilesList = $("#wall-tiles");
const errorLine = $("#wall-error");

let round = null;          // the round shown
let stream = null;         // its EventSource
const tiles = new Map();   // drawing id -> {data, item}
let filter = null;         // {label, digit}: only that square's drawings
let reportTimer = 0;
let lastReport = null;

const inside = new InsideView($("#inside"), {
  url: $("#inside").dataset.explainUrl,
  titleOf: (name) => models.find((model) => model.name === name)?.title ?? name,
  onToggle: (open) => { $("#wall-inside").hidden = !open; },
});
$("#inside-close").addEventListener("click", () => inside.setOpen(false));

const teach = new TeachPanel($("#wall-teach"), { roundsUrl, models, onReplay: markReplay });

function showError(error) {
  errorLine.textContent = error ? error.message : "";
}

async function act(method, url, body) {
  try {
    showError(null);
    return await teacherRequest(method, url, body);
  } catch (error) {
    showError(error);
    return undefined;
  }
}

/* ---------- Following a round ---------- */

function follow(next) {
  if (next?.id !== round?.id) {
    stream?.close();
    stream = null;
    tiles.clear();
    tilesList.replaceChildren();
    filter = null;
    lastReport = null;
  }
  round = next;
  showRound();
  if (!round) teach.show(null, 0);
  if (round && !stream) openStream(round.id);
  if (round) refreshReport();
}

function openStream(roundId) {
  const last = Math.max(0, ...tiles.keys());
  stream = new EventSource(`${roundsUrl}/${roundId}/events${last ? `?lastEventId=${last}` : ""}`);
  stream.addEventListener("error", () => {
    // A dropped connection the browser retries by itself; a refusal (503 busy, 403 signed out, a proxy's 502)
    // closes the stream for good: open it again after a pause, from the newest tile, while the round is shown.
    if (stream?.readyState !== EventSource.CLOSED) return;
    const closed = stream;
    setTimeout(() => {
      if (stream === closed && round?.id === roundId) {
        stream = null;
        openStream(roundId);
      }
    }, STREAM_RETRY_MS);
  });
  stream.addEventListener("drawing", (event) => {
    addTile(JSON.parse(event.data));
    reportSoon();
  });
  stream.addEventListener("hidden", (event) => {
    removeTile(JSON.parse(event.data).id);
    reportSoon();
  });
  stream.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (round && state.id === round.id) {
      round = { ...round, ...state };
      showRound();
      reportSoon();
    }
  });
  stream.addEventListener("deleted", () => follow(null));
}

async function checkCurrent() {
  let current;
  try {
    current = await requestJson(wall.dataset.currentUrl, { cache: "no-store" });
  } catch {
    return false;
  }
  if (current && current.id !== round?.id) follow(current);
  return true;
}

async function showLatest() {
  const current = await requestJson(wall.dataset.currentUrl, { cache: "no-store" }).catch(() => null);
  if (current) {
    follow(current);
    return;
  }
  const listed = await act("GET", roundsUrl);
  follow(listed?.[0] ?? null);
}

/* ---------- The tiles ---------- */

function nicknamesShown() {
  return $("#wall-nicknames").checked;
}

function fooling() {
  return Boolean(round?.fool);
}

function tileAlt({ label, digit, right }) {
  const values = { label, digit };
  if (right) {
    return takesAn(label) ? t("A drawing of an {label}, read right", values)
      : t("A drawing of a {label}, read right", values);
  }
  return takesAn(label) ? t("A drawing of an {label}, read as {digit}", values)
    : t("A drawing of a {label}, read as {digit}", values);
}

function unfairLabel({ id, label }) {
  return takesAn(label) ? t("Unfair: drawing {id} is not really an {label}", { id, label })
    : t("Unfair: drawing {id} is not really a {label}", { id, label });
}

function unfairTitle({ label }) {
  return takesAn(label) ? t("Unfair: not really an {label} (it leaves the round and is deleted)", { label })
    : t("Unfair: not really a {label} (it leaves the round and is deleted)", { label });
}

function addTile(data) {
  if (tiles.has(data.id)) return;   // a reconnection never shows one twice
  const reading = data.digit === null ? "?" : String(data.digit);
  const unfair = fooling();
  const image = element("img", { src: data.input, alt: tileAlt(data), class: "tile-image pixelated",
    width: 28, height: 28 });
  const hide = element("button", { type: "button", class: "tile-hide",
    "aria-label": unfair ? unfairLabel(data) : t("Hide drawing {id}", { id: data.id }),
    title: unfair ? unfairTitle(data) : t("Hide this drawing (it is deleted)"), text: "×",
    "data-unfair": t("unfair") });
  const open = element("button", { type: "button", class: "tile-open",
    "aria-label": t("Look inside the model for drawing {id}", { id: data.id }) }, image,
  element("span", { class: "tile-reading", text: reading }),
  element("span", { class: "tile-verdict", "aria-hidden": "true", text: data.right ? "✓" : "✗" }));
  const item = element("li", { class: "tile", "data-id": data.id, "data-right": String(Boolean(data.right)),
    "data-label": data.label, "data-digit": data.digit ?? "" }, open,
  element("span", { class: "tile-label", text: unfair && data.confidence != null
    ? t("drawn: {label} · {percent} sure", { label: data.label, percent: percent(data.confidence, 0) })
    : t("drawn: {label}", { label: data.label }) }),
  element("span", { class: "tile-nickname", dir: "auto", text: data.nickname ?? "" }),
  element("span", { class: "tile-replay", hidden: "" }), hide);
  hide.addEventListener("click", (event) => {
    event.stopPropagation();
    hideTile(data.id);
  });
  open.addEventListener("click", () => lookInside(data));
  tiles.set(data.id, { data, item });
  placeTile(item, data);
  applyFilter();
  showFoolers();
}

/** Misread drawings first once the round has ended, and always in a fool round. */
function misreadFirst() {
  return round?.state === "ended" || fooling();
}

/** Newest first while a round runs (a fool round's fooling drawings before the others). */
function placeTile(item, data) {
  if (misreadFirst() && !data.right) {
    const first = round?.state === "ended"
      ? [...tilesList.children].find((child) => child.dataset.right === "true") : tilesList.firstElementChild;
    tilesList.insertBefore(item, first ?? null);
  } else if (misreadFirst()) {
    if (round?.state === "ended") tilesList.append(item);
    else tilesList.insertBefore(item, [...tilesList.children].find((child) => child.dataset.right === "true") ?? null);
  } else tilesList.prepend(item);
}

function orderTiles() {
  const ordered = [...tiles.values()].sort((a, b) => {
    if (misreadFirst() && a.data.right !== b.data.right) return a.data.right ? 1 : -1;
    return b.data.id - a.data.id;
  });
  tilesList.replaceChildren(...ordered.map(({ item }) => item));
}

function removeTile(id) {
  tiles.get(id)?.item.remove();
  tiles.delete(id);
  showFoolers();
}

/** A fool round's scoreboard: how many drawings of each nickname fooled the model. */
function showFoolers() {
  $("#wall-fooled-section").hidden = !fooling();
  if (!fooling()) return;
  const counts = new Map();
  for (const { data } of tiles.values()) {
    if (!data.right && data.nickname) counts.set(data.nickname, (counts.get(data.nickname) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  $("#wall-fooled").replaceChildren(...(ranked.length ? ranked.map(([nickname, times]) => element("li", {},
    element("span", { class: "fooler-name", text: nickname }),
    element("span", { class: "fooler-count", text: tn("{n} time", "{n} times", times) })))
    : [element("li", { class: "muted", text: t("Nobody yet: who will be first?") })]));
}

/** Mark each tile with its readings by the old and the new version (null: no replay shown). */
function markReplay(replay) {
  const readings = new Map((replay?.drawings ?? []).map((drawing) => [drawing.id, drawing]));
  for (const { data, item } of tiles.values()) {
    const reading = readings.get(data.id);
    const mark = item.querySelector(".tile-replay");
    mark.hidden = !reading;
    item.dataset.changed = reading?.changed ?? "";
    item.dataset.split = reading?.split ?? "";
    if (!reading) continue;
    const values = { old: replay.old.number, before: reading.old, new: replay.new.number, after: reading.new };
    mark.textContent = reading.split === "held_out" ? t("v{old}: {before} → v{new}: {after} · kept aside", values)
      : t("v{old}: {before} → v{new}: {after}", values);
  }
}

async function hideTile(id) {
  if (!round) return;
  const answer = await act("DELETE", `${roundsUrl}/${round.id}/drawings/${id}`);
  if (answer !== undefined) {
    removeTile(id);
    reportSoon();
  }
}

async function lookInside(data) {
  inside.setOpen(true);
  try {
    const response = await fetch(data.image, { credentials: "same-origin" });
    if (!response.ok) throw new Error(t("This drawing is no longer kept."));
    inside.show(await response.blob(), data.model ?? models[0]?.name);
  } catch (error) {
    inside.show(null, null, error.message);
  }
}

function applyFilter() {
  for (const { data, item } of tiles.values()) {
    item.hidden = Boolean(filter) && !(data.label === filter.label && data.digit === filter.digit);
  }
  $("#wall-filter-clear").hidden = !filter;
}

/* ---------- The round's state, counts, models and matrix ---------- */

const STATES = { open: t("Round open"), paused: t("Round paused"), ended: t("Round ended") };

function showRound() {
  $("#wall-prompt").textContent = round ? roundPrompt(round) : t("Start a round for the class");
  $("#wall-state").textContent = round ? STATES[round.state] : t("No round yet");
  wall.dataset.state = round?.state ?? "none";
  const live = round && round.state !== "ended";
  $("#wall-start").hidden = Boolean(live);
  $("#wall-running").hidden = !live;
  $("#wall-pause").textContent = round?.state === "paused" ? t("Resume") : t("Pause");
  $("#wall-delete").hidden = !round || live;
  wall.classList.toggle("is-fool", fooling());
  if (misreadFirst()) orderTiles();
  showFoolers();
}

function reportSoon() {
  clearTimeout(reportTimer);
  reportTimer = setTimeout(refreshReport, REPORT_AFTER_MS);
}

async function refreshReport() {
  if (!round) return;
  const asked = round.id;
  let report;
  try {
    report = await requestJson(`${roundsUrl}/${asked}`, { cache: "no-store" });
  } catch {
    return;
  }
  if (round?.id !== asked) return;
  lastReport = report;
  teach.show(round, report.sent);
  const served = report.models.find((model) => model.model === report.served_model) ?? report.models[0];
  $("#wall-sent").textContent = count(report.sent);
  $("#wall-devices").textContent = count(report.devices);
  $("#wall-right").textContent = served?.read ? ofTotal(served.right, served.read) : "–";
  $("#wall-models").replaceChildren(...report.models.map((model) => element("li", {},
    element("span", { class: "model-title", text: model.title }),
    element("span", { class: "model-score",
      text: model.read ? scoreText(model.right, model.read, model.accuracy) : t("nothing yet") }))));
  showMatrix(report.confusion);
  const ended = report.state === "ended";
  $("#wall-summary").textContent = ended && served ? summaryText(served) : "";
  $("#wall-digits-section").hidden = !ended;
  if (ended) showPerDigit(report, served);
}

/** "3 of 5", the locale's way. */
function ofTotal(right, total) {
  return t("{right} of {total}", { right: count(right), total: count(total) });
}

/** "3 of 5 · 60%" */
function scoreText(right, total, accuracy) {
  return t("{right} of {total} · {percent}",
    { right: count(right), total: count(total), percent: percent(accuracy, 0) });
}

function summaryText({ right, read }) {
  const values = { right: count(right), read: count(read) };
  return read > right ? t("The model read {right} of {read} right: the misread ones come first.", values)
    : t("The model read {right} of {read} right.", values);
}

function showMatrix(matrix) {
  const head = element("tr", {},
    element("th", { scope: "col", "aria-label": t("drawn, read as") }, t("↓ drawn · read →")),
    ...matrix.map((_, digit) => element("th", { scope: "col", text: String(digit) })));
  const largest = Math.max(1, ...matrix.flat());
  const rows = matrix.map((row, label) => element("tr", {}, element("th", { scope: "row", text: String(label) }),
    ...row.map((drawings, digit) => {
      const cell = element("td", { "data-count": drawings, class: label === digit ? "diagonal" : "" });
      if (drawings) {
        const button = element("button", { type: "button", text: count(drawings),
          "aria-label": tn("{n} drawn as {label} read as {digit}", "{n} drawn as {label} read as {digit}", drawings,
            { label, digit }) });
        button.style.setProperty("--share", String(drawings / largest));
        button.addEventListener("click", () => {
          filter = { label, digit };
          applyFilter();
        });
        cell.append(button);
      }
      return cell;
    })));
  $("#wall-matrix").replaceChildren(element("thead", {}, head), element("tbody", {}, ...rows));
}

function showPerDigit(report, served) {
  const head = element("tr", {}, element("th", { scope: "col", text: t("digit") }),
    element("th", { scope: "col", text: t("the class") }), element("th", { scope: "col", text: t("MNIST test") }));
  const rows = report.per_digit.filter((row) => row.total).map((row) => element("tr", {},
    element("th", { scope: "row", text: String(row.digit) }),
    element("td", { text: scoreText(row.right, row.total, row.right / row.total) }),
    element("td", { text: served?.mnist_per_digit ? percent(served.mnist_per_digit[row.digit], 1) : "–" })));
  $("#wall-digits").replaceChildren(element("thead", {}, head), element("tbody", {}, ...rows));
}

/* ---------- The teacher's controls ---------- */

for (const button of document.querySelectorAll("[data-start-digit]")) {
  button.addEventListener("click", async () => {
    const started = await act("POST", roundsUrl, { kind: "digit", digit: Number(button.dataset.startDigit),
      fool: $("#wall-fool").checked });
    if (started) follow(started);
  });
}
document.querySelector("[data-start-any]").addEventListener("click", async () => {
  const started = await act("POST", roundsUrl, { kind: "any", fool: $("#wall-fool").checked });
  if (started) follow(started);
});
$("#wall-pause").addEventListener("click", async () => {
  if (!round) return;
  const changed = await act("POST", `${roundsUrl}/${round.id}/${round.state === "paused" ? "resume" : "pause"}`);
  if (changed) follow(changed);
});
$("#wall-end").addEventListener("click", async () => {
  if (!round) return;
  const changed = await act("POST", `${roundsUrl}/${round.id}/end`);
  if (changed) follow(changed);
});
$("#wall-delete").addEventListener("click", async () => {
  if (!round || !window.confirm(tn("Delete this round and its {n} drawing? This cannot be undone.",
    "Delete this round and its {n} drawings? This cannot be undone.", tiles.size))) return;
  if (await act("DELETE", `${roundsUrl}/${round.id}`) !== undefined) follow(null);
});
$("#wall-nicknames").addEventListener("change", () => {
  wall.classList.toggle("nicknames-hidden", !nicknamesShown());
});
$("#wall-filter-clear").addEventListener("click", () => {
  filter = null;
  applyFilter();
});

askEvery(ROUND_CHECK_MS, checkCurrent);
showLatest();
