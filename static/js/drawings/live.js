/**
 * /drawings follows the collection while it is open: every few seconds it asks GET /api/drawings for the drawings
 * newer than its newest, with the counts and scores beside them (a cheap question: the server reads them from
 * counters), puts the new tiles at the top of the first page and updates the counts, each model's score and the
 * confusion matrix. New tiles wait while the pointer is over the drawings (pointer-hold.js).
 */

import { requestJson } from "../api.js";
import { element } from "../dom.js";
import { count, t, tn } from "../i18n.js";
import { askEvery } from "../poll.js";
import { tileFor } from "./tiles.js";

const ASK_EVERY_MS = 4000;

const totalText = document.getElementById("drawings-total");
const gridEmpty = document.getElementById("grid-empty");
const waitingNote = document.getElementById("grid-waiting");

/** "93.1 %" as the page writes it (a no-break space before the sign). */
function accuracyText(accuracy) {
  if (accuracy === null) return t("not yet");
  return t("{percent}\u00a0%", { percent: count(Number((accuracy * 100).toFixed(1)), 1) });
}

function showCounts(labelCounts) {
  const total = labelCounts.reduce((sum, each) => sum + each, 0);
  totalText.textContent = tn("{n} drawing", "{n} drawings", total);
  for (const link of document.querySelectorAll(".label-filter a[data-label]")) {
    const label = link.dataset.label;
    link.querySelector(".count").textContent = count(label === "" ? total : labelCounts[Number(label)]);
  }
  for (const id of ["scores", "confusion-card"]) {
    const part = document.getElementById(id);
    if (part) part.hidden = total === 0;
  }
  const noScores = document.getElementById("scores-empty");
  if (noScores) noScores.hidden = total > 0;
}

function showScore(score) {
  const accuracy = document.querySelector(`.model-accuracy[data-model="${CSS.escape(score.name)}"]`);
  if (!accuracy) return;
  accuracy.textContent = accuracyText(score.accuracy);
  const catchingUp = score.read < score.drawings
    ? [" ", element("span", { class: "model-catching-up", "data-model": score.name,
      text: tn("({read} of {n} drawing read so far; more on each visit)",
        "({read} of {n} drawings read so far; more on each visit)", score.drawings, { read: count(score.read) }) })]
    : [];
  accuracy.nextElementSibling.replaceChildren(
    t("{errors} of {read}", { errors: count(score.errors), read: count(score.read) }), ...catchingUp);
}

/** The matrix of the model it shows: counts, and each cell's shade (a fifth of its row per step). */
function showConfusion(scores) {
  const table = document.querySelector("table.confusion");
  const score = table && scores.find((each) => each.name === table.dataset.model);
  if (!score) return;
  table.querySelectorAll("tbody tr").forEach((row, drawn) => {
    const counts = score.confusion_matrix[drawn];
    const rowTotal = counts.reduce((sum, each) => sum + each, 0);
    row.querySelectorAll("td").forEach((cell, read) => {
      const heat = rowTotal ? Math.round((counts[read] / rowTotal) * 5) : 0;
      cell.textContent = count(counts[read]);
      cell.className = `${read === drawn ? "right" : "wrong"} heat-${heat}${counts[read] ? "" : " zero"}`;
    });
  });
}

/** "(3 new: shown when the pointer leaves the drawings)", and whether more arrived than one answer holds. */
function waitingText(waiting, skipped) {
  if (waiting && skipped) {
    return tn("({n} new: shown when the pointer leaves the drawings; more arrived than fit: reload to see every one)",
      "({n} new: shown when the pointer leaves the drawings; more arrived than fit: reload to see every one)", waiting);
  }
  if (waiting) {
    return tn("({n} new: shown when the pointer leaves the drawings)",
      "({n} new: shown when the pointer leaves the drawings)", waiting);
  }
  return skipped ? t("(more arrived than fit: reload to see every one)") : "";
}

/**
 * Follow the collection into `grid`; `hold` keeps new tiles back while the pointer is over the drawings.
 * Only the first page gets new tiles (older pages keep their drawings; their counts still follow).
 */
export function followDrawings(grid, hold) {
  const firstPage = grid.dataset.page === "1";
  const withTools = Boolean(grid.dataset.deleteUrl);
  const ids = [...grid.querySelectorAll(".drawing")].map((tile) => Number(tile.dataset.id));
  let newest = Math.max(0, ...ids);
  let waiting = [];     // new drawings not shown yet, newest first
  let skipped = false;  // more arrived between two questions than one answer holds

  function noteWaiting() {
    waitingNote.textContent = waitingText(waiting.length, skipped);
  }

  function showWaiting() {
    grid.prepend(...waiting.map((drawing) => tileFor(drawing, { withTools })));
    waiting = [];
    noteWaiting();
    if (gridEmpty) gridEmpty.hidden = grid.children.length > 0;
  }

  function questionUrl() {
    const url = new URL(grid.dataset.pollUrl, location.href);
    url.searchParams.set("after", String(newest));
    if (grid.dataset.label !== "") url.searchParams.set("label", grid.dataset.label);
    if (!firstPage) url.searchParams.set("limit", "1");   // only the counts matter there
    return url;
  }

  function take(answer) {
    showCounts(answer.label_counts);
    answer.scores.forEach(showScore);
    showConfusion(answer.scores);
    if (!answer.items.length) return;
    newest = Math.max(newest, ...answer.items.map((drawing) => drawing.id));
    if (!firstPage) return;
    waiting = [...answer.items, ...waiting];
    skipped ||= answer.more;
    noteWaiting();
    hold.whenFree(showWaiting);
  }

  async function ask() {
    let answer;
    try {
      answer = await requestJson(questionUrl());
    } catch {
      return false;   // the next question puts the page right
    }
    take(answer);
    return true;
  }

  askEvery(ASK_EVERY_MS, ask);
}
