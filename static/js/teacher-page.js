/** The teacher page: collecting on/off and the class's language for everyone, and deleting every drawing after a
 * confirmation. */

import { t, tn } from "./i18n.js";
import { teacherRequest } from "./teacher.js";
import "./teacher-versions.js";

const collectingCard = document.getElementById("collecting-card");
const collectingSwitch = document.getElementById("collecting");
const collectingExplained = document.getElementById("collecting-explained");
const collectingStatus = document.getElementById("collecting-status");

const EXPLAINED = {
  true: t("On: after each prediction students can say whether it was right, and their drawing is kept."),
  false: t("Off: the Right/Wrong buttons are gone from every page and nothing is kept."),
};

collectingSwitch.addEventListener("change", async () => {
  const wanted = collectingSwitch.checked;
  collectingSwitch.disabled = true;
  collectingStatus.classList.remove("is-error");
  try {
    const { collecting } = await teacherRequest("POST", collectingCard.dataset.url, { collecting: wanted });
    collectingSwitch.checked = collecting;
    collectingExplained.textContent = EXPLAINED[collecting];
    collectingStatus.textContent = collecting ? t("Collecting is on for everyone.")
      : t("Collecting is off for everyone.");
  } catch (error) {
    collectingSwitch.checked = !wanted;
    collectingStatus.textContent = error.message;
    collectingStatus.classList.add("is-error");
  } finally {
    collectingSwitch.disabled = false;
  }
});

const languageCard = document.getElementById("class-language-card");
const languageChoice = document.getElementById("class-language");
const languageStatus = document.getElementById("class-language-status");
let chosenLanguage = languageChoice.value;

languageChoice.addEventListener("change", async () => {
  const option = languageChoice.selectedOptions[0];
  languageChoice.disabled = true;
  languageStatus.classList.remove("is-error");
  try {
    await teacherRequest("POST", languageCard.dataset.url, { language: languageChoice.value || null });
    chosenLanguage = languageChoice.value;
    languageStatus.textContent = chosenLanguage
      ? t("Every device now shows {language}. Reloading…", { language: option.textContent })
      : t("Each device now chooses its own language. Reloading…");
    window.location.reload();
  } catch (error) {
    languageChoice.value = chosenLanguage;
    languageStatus.textContent = error.message;
    languageStatus.classList.add("is-error");
    languageChoice.disabled = false;
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
  clearStatus.textContent = t("Deleting…");
  try {
    const { deleted } = await teacherRequest("DELETE", clearAll.dataset.url);
    clearStatus.textContent = tn("Deleted {n} drawing.", "Deleted {n} drawings.", deleted);
  } catch (error) {
    clearStatus.textContent = error.message;
    clearStatus.classList.add("is-error");
  }
});
