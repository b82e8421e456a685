/** The teacher page: collecting on/off for everyone, and deleting every drawing after a confirmation. */

import { teacherRequest } from "./teacher.js";
import "./teacher-versions.js";

const collectingCard = document.getElementById("collecting-card");
const collectingSwitch = document.getElementById("collecting");
const collectingExplained = document.getElementById("collecting-explained");
const collectingStatus = document.getElementById("collecting-status");

const EXPLAINED = {
  true: "On: after each prediction students can say whether it was right, and their drawing is kept.",
  false: "Off: the Right/Wrong buttons are gone from every page and nothing is kept.",
};

collectingSwitch.addEventListener("change", async () => {
  const wanted = collectingSwitch.checked;
  collectingSwitch.disabled = true;
  collectingStatus.classList.remove("is-error");
  try {
    const { collecting } = await teacherRequest("POST", collectingCard.dataset.url, { collecting: wanted });
    collectingSwitch.checked = collecting;
    collectingExplained.textContent = EXPLAINED[collecting];
    collectingStatus.textContent = collecting ? "Collecting is on for everyone." : "Collecting is off for everyone.";
  } catch (error) {
    collectingSwitch.checked = !wanted;
    collectingStatus.textContent = error.message;
    collectingStatus.classList.add("is-error");
  } finally {
    collectingSwitch.disabled = false;
  }
});

const clearAll = document.getElementById("clear-all");
const clearDialog = document.getElementById("clear-all-dialog");
const clearStatus = document.getElementById("clear-all-status");

document.getElementById("clear-all-button").addEventListener("click", () => clearDialog.showModal());
clearDialog.addEventListener("close", async () => {
  if (clearDialog.returnValue !== "delete") return;
  clearDialog.returnValue = "";
  clearStatus.classList.remove("is-error");
  clearStatus.textContent = "Deleting…";
  try {
    const { deleted } = await teacherRequest("DELETE", clearAll.dataset.url);
    clearStatus.textContent = `Deleted ${deleted.toLocaleString("en")} drawing${deleted === 1 ? "" : "s"}.`;
  } catch (error) {
    clearStatus.textContent = error.message;
    clearStatus.classList.add("is-error");
  }
});
