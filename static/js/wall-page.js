/**
 * The class's wall: the teacher starts, pauses and ends rounds; the class's drawings arrive as tiles over
 * server-sent events (GET /api/rounds/<id>/events; the browser's EventSource reconnects by itself with the last
 * drawing's id, and the server sends what came after it), with how the served model read each, the counts,
 * every model's accuracy and the confusion matrix (GET /api/rounds/<id>). A square of the matrix shows its
 * drawings; a tile opens Look inside for that drawing; × hides a tile (from every wall and from the store).
 * When the round ends: the summary, the misread drawings first, and the class's per-digit accuracy beside MNIST's.
 */

import { requestJson } from "./api.js";
import { element, percent } from "./dom.js";
import { InsideView } from "./draw/inside-view.js";
import { askEvery } from "./poll.js";
import { teacherRequest } from "./teacher.js";
import { withArticle } from "./words.js";

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

function addTile(data) {
  if (tiles.has(data.id)) return;   // a reconnection never shows one twice
  const reading = data.digit === null ? "?" : String(data.digit);
  const verdict = data.right ? "read right" : `read as ${data.digit}`;
  const image = element("img", { src: data.input, alt: `A drawing of ${withArticle(data.label)}, ${verdict}`,
    class: "tile-image pixelated", width: 28, height: 28 });
  const hide = element("button", { type: "button", class: "tile-hide", "aria-label": `Hide drawing ${data.id}`,
    title: "Hide this drawing (it is deleted)", text: "×" });
  const open = element("button", { type: "button", class: "tile-open",
    "aria-label": `Look inside the model for drawing ${data.id}` }, image,
  element("span", { class: "tile-reading", text: reading }),
  element("span", { class: "tile-verdict", "aria-hidden": "true", text: data.right ? "✓" : "✗" }));
  const item = element("li", { class: "tile", "data-id": data.id, "data-right": String(Boolean(data.right)),
    "data-label": data.label, "data-digit": data.digit ?? "" }, open,
  element("span", { class: "tile-label", text: `drawn: ${data.label}` }),
  element("span", { class: "tile-nickname", text: data.nickname ?? "" }), hide);
  hide.addEventListener("click", (event) => {
    event.stopPropagation();
    hideTile(data.id);
  });
  open.addEventListener("click", () => lookInside(data));
  tiles.set(data.id, { data, item });
  placeTile(item, data);
  applyFilter();
}

/** Newest first while a round runs; when it has ended the misread drawings come first. */
function placeTile(item, data) {
  if (round?.state === "ended" && !data.right) {
    const firstRight = [...tilesList.children].find((child) => child.dataset.right === "true");
    tilesList.insertBefore(item, firstRight ?? null);
  } else if (round?.state === "ended") tilesList.append(item);
  else tilesList.prepend(item);
}

function orderTiles() {
  const ordered = [...tiles.values()].sort((a, b) => {
    if (round?.state === "ended" && a.data.right !== b.data.right) return a.data.right ? 1 : -1;
    return b.data.id - a.data.id;
  });
  tilesList.replaceChildren(...ordered.map(({ item }) => item));
}

function removeTile(id) {
  tiles.get(id)?.item.remove();
  tiles.delete(id);
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
    if (!response.ok) throw new Error("This drawing is no longer kept.");
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

const STATES = { open: "Round open", paused: "Round paused", ended: "Round ended" };

function showRound() {
  $("#wall-prompt").textContent = round ? round.prompt : "Start a round for the class";
  $("#wall-state").textContent = round ? STATES[round.state] : "No round yet";
  wall.dataset.state = round?.state ?? "none";
  const live = round && round.state !== "ended";
  $("#wall-start").hidden = Boolean(live);
  $("#wall-running").hidden = !live;
  $("#wall-pause").textContent = round?.state === "paused" ? "Resume" : "Pause";
  $("#wall-delete").hidden = !round || live;
  if (round?.state === "ended") orderTiles();
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
  const served = report.models.find((model) => model.model === report.served_model) ?? report.models[0];
  $("#wall-sent").textContent = String(report.sent);
  $("#wall-devices").textContent = String(report.devices);
  $("#wall-right").textContent = served?.read ? `${served.right} of ${served.read}` : "–";
  $("#wall-models").replaceChildren(...report.models.map((model) => element("li", {},
    element("span", { class: "model-title", text: model.title }),
    element("span", { class: "model-score",
      text: model.read ? `${model.right} of ${model.read} · ${percent(model.accuracy, 0)}` : "nothing yet" }))));
  showMatrix(report.confusion);
  const ended = report.state === "ended";
  $("#wall-summary").textContent = ended && served
    ? `The model read ${served.right} of ${served.read} right${served.read > served.right ? ": the misread ones come first." : "."}`
    : "";
  $("#wall-digits-section").hidden = !ended;
  if (ended) showPerDigit(report, served);
}

function showMatrix(matrix) {
  const head = element("tr", {}, element("th", { scope: "col", "aria-label": "drawn, read as" }, "↓ drawn · read →"),
    ...matrix.map((_, digit) => element("th", { scope: "col", text: String(digit) })));
  const largest = Math.max(1, ...matrix.flat());
  const rows = matrix.map((row, label) => element("tr", {}, element("th", { scope: "row", text: String(label) }),
    ...row.map((count, digit) => {
      const cell = element("td", { "data-count": count, class: label === digit ? "diagonal" : "" });
      if (count) {
        const button = element("button", { type: "button", text: String(count),
          "aria-label": `${count} drawn as ${label} read as ${digit}` });
        button.style.setProperty("--share", String(count / largest));
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
  const head = element("tr", {}, element("th", { scope: "col", text: "digit" }),
    element("th", { scope: "col", text: "the class" }), element("th", { scope: "col", text: "MNIST test" }));
  const rows = report.per_digit.filter((row) => row.total).map((row) => element("tr", {},
    element("th", { scope: "row", text: String(row.digit) }),
    element("td", { text: `${row.right} of ${row.total} · ${percent(row.right / row.total, 0)}` }),
    element("td", { text: served?.mnist_per_digit ? percent(served.mnist_per_digit[row.digit], 1) : "–" })));
  $("#wall-digits").replaceChildren(element("thead", {}, head), element("tbody", {}, ...rows));
}

/* ---------- The teacher's controls ---------- */

for (const button of document.querySelectorAll("[data-start-digit]")) {
  button.addEventListener("click", async () => {
    const started = await act("POST", roundsUrl, { kind: "digit", digit: Number(button.dataset.startDigit) });
    if (started) follow(started);
  });
}
document.querySelector("[data-start-any]").addEventListener("click", async () => {
  const started = await act("POST", roundsUrl, { kind: "any" });
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
  if (!round || !window.confirm(`Delete this round and its ${tiles.size} drawings? This cannot be undone.`)) return;
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
