/**
 * The signed-in teacher's tools on /drawings: see a drawing as it was drawn next to its 28x28, and delete it.
 *
 * Delete takes effect UNDO_MS later: meanwhile the tile stays where it is, greyed, with "Deleted" and Undo on
 * it. Leaving the page or hiding its tab sends the waiting deletions at once (a request that outlives the page),
 * so none is forgotten; one the server refuses comes back with the reason. A deleted tile is taken out only when
 * the pointer is off the drawings, so the next click never lands on a tile that slid under it. Messages appear
 * in a live region fixed at the bottom of the screen.
 */

import { element } from "../dom.js";
import { t, tn } from "../i18n.js";
import { teacherRequest } from "../teacher.js";

const UNDO_MS = 8000;
const MESSAGE_MS = 10000;   // a message clears itself after this long

const status = document.getElementById("moderate-status");
const dialog = document.getElementById("original-dialog");
const originalImage = document.getElementById("original-image");
const originalInput = document.getElementById("original-input");
const waiting = new Map();   // tile -> timer of its deletion
let messageTimer = 0;
let hold = null;             // keeps deleted tiles in place while the pointer is over the drawings

/** The URL for drawing `id` from a template URL made for drawing 0 (…/drawings/0/…). */
function urlFor(template, id) {
  return template.replace(/\/0(\/|$)/, `/${id}$1`);
}

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("is-error", isError);
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => {
    status.textContent = "";
    status.classList.remove("is-error");
  }, MESSAGE_MS);
}

function showOriginal(grid, tile) {
  const id = tile.dataset.id;
  const input = tile.querySelector("img");
  const label = tile.querySelector(".drawing-label").textContent;   // "#12: a 7"
  dialog.querySelector("h2").textContent = t("Drawing {label}", { label });
  originalImage.src = urlFor(grid.dataset.originalUrl, id);
  originalImage.alt = t("Drawing #{id} as it was drawn", { id });
  originalInput.src = input.src;
  originalInput.alt = t("Drawing #{id} as the model read it, 28 by 28 pixels", { id });
  dialog.showModal();
}

function setToolsEnabled(tile, enabled) {
  for (const button of tile.querySelectorAll(".drawing-tools button")) button.disabled = !enabled;
}

function startDeleting(tile, button) {
  const id = tile.dataset.id;
  const hadFocus = document.activeElement === button;
  const undo = element("button", { type: "button", class: "button small button-primary", "data-action": "undo",
    "aria-label": t("Undo deleting drawing #{id}", { id }), text: t("Undo") });
  tile.append(element("span", { class: "drawing-deleted" }, element("span", { text: t("Deleted") }), undo));
  tile.classList.add("is-deleting");
  setToolsEnabled(tile, false);
  waiting.set(tile, setTimeout(() => finishDeleting(tile), UNDO_MS));
  say(tn("Drawing #{id} deleted. Undo on its tile within {n} second keeps it.",
    "Drawing #{id} deleted. Undo on its tile within {n} seconds keeps it.", UNDO_MS / 1000, { id }));
  if (hadFocus) undo.focus();
}

/** Put the tile back as it was, its Delete button focused when its Undo was. */
function restore(tile) {
  const hadFocus = tile.querySelector(".drawing-deleted")?.contains(document.activeElement);
  tile.querySelector(".drawing-deleted")?.remove();
  tile.classList.remove("is-deleting");
  setToolsEnabled(tile, true);
  if (hadFocus) tile.querySelector("[data-action='delete']").focus();
}

function undoDeleting(tile) {
  clearTimeout(waiting.get(tile));
  waiting.delete(tile);
  restore(tile);
  say(t("Drawing #{id} is kept.", { id: tile.dataset.id }));
}

/** The tile stays, marked "Deleted", until the pointer is off the drawings. */
function markGone(tile, sentence) {
  say(sentence);
  hold.whenFree(() => tile.remove());
}

async function finishDeleting(tile, { keepalive = false } = {}) {
  const id = tile.dataset.id;
  waiting.delete(tile);
  tile.querySelector("[data-action='undo']")?.remove();   // too late to take it back
  try {
    await teacherRequest("DELETE", urlFor(tile.parentElement.dataset.deleteUrl, id), undefined, { keepalive });
    markGone(tile, t("Drawing #{id} is deleted.", { id }));
  } catch (error) {
    if (error.status === 404) {
      markGone(tile, t("Drawing #{id} was already gone: taken back by its student or deleted elsewhere.", { id }));
      return;
    }
    restore(tile);
    say(t("Drawing #{id} was not deleted: {reason}", { id, reason: error.message }), true);
  }
}

/** Leaving the page: every waiting deletion is sent now, in requests that outlive the page. */
function deleteWaitingNow() {
  for (const [tile, timer] of waiting) {
    clearTimeout(timer);
    finishDeleting(tile, { keepalive: true });
  }
}

/** The teacher's tools on `grid`; `pointerHold` (pointer-hold.js) keeps deleted tiles in place meanwhile. */
export function moderate(grid, pointerHold) {
  hold = pointerHold;
  grid.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tile = button.closest(".drawing");
    if (button.dataset.action === "original") showOriginal(grid, tile);
    else if (button.dataset.action === "delete") startDeleting(tile, button);
    else if (button.dataset.action === "undo") undoDeleting(tile);
  });
  window.addEventListener("pagehide", deleteWaitingNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") deleteWaitingNow();
  });
  originalImage.addEventListener("error", () => say(t("The drawing as it was drawn could not be loaded: "
    + "it may have been deleted, or your sign-in ended (sign in again on the teacher page)."), true));
}
