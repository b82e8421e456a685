/** The drawings page for the signed-in teacher: see a drawing as it was drawn next to its 28x28, delete it. */

import { teacherRequest } from "./teacher.js";

const grid = document.querySelector(".drawing-grid");
const status = document.getElementById("moderate-status");
const dialog = document.getElementById("original-dialog");
const originalImage = document.getElementById("original-image");
const originalInput = document.getElementById("original-input");

/** The URL for drawing `id` from a template URL made for drawing 0 (…/drawings/0/…). */
function urlFor(template, id) {
  return template.replace(/\/0(\/|$)/, `/${id}$1`);
}

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("is-error", isError);
}

function showOriginal(item) {
  const id = item.dataset.id;
  const input = item.querySelector("img");
  dialog.querySelector("h2").textContent = `Drawing #${id}: ${item.querySelector(".drawing-label").textContent.replace(/^#\d+: /, "")}`;
  originalImage.src = urlFor(grid.dataset.originalUrl, id);
  originalImage.alt = `Drawing #${id} as it was drawn`;
  originalInput.src = input.src;
  originalInput.alt = `Drawing #${id} as the model read it, 28 by 28 pixels`;
  dialog.showModal();
}

async function remove(item, button) {
  const id = item.dataset.id;
  button.disabled = true;
  try {
    await teacherRequest("DELETE", urlFor(grid.dataset.deleteUrl, id));
    item.remove();
    say(`Deleted drawing #${id}.`);
  } catch (error) {
    button.disabled = false;
    say(error.message, true);
  }
}

grid?.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const item = button.closest(".drawing");
  if (button.dataset.action === "original") showOriginal(item);
  else if (button.dataset.action === "delete") remove(item, button);
});
originalImage.addEventListener("error", () => say("The drawing as it was drawn could not be loaded: "
  + "it may have been deleted, or your sign-in ended (sign in again on the teacher page).", true));
