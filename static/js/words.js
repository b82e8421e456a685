/** Words as people say them: the article a number takes in English, a model's title inside a sentence, a round's
 * prompt. */

import { t } from "./i18n.js";

/** True when English says "an" before the number: "an 8", "an 11", "an 18", "an 80", "an 11000" (read aloud it
 * starts with a vowel sound: eight, eleven, eighteen, and their thousands). A sentence with "a {digit}" in it
 * comes as two messages, one with "a" and one with "an", and this chooses (each language translates both). */
export function takesAn(number) {
  const digits = String(number);
  return digits.startsWith("8") || (digits.length % 3 === 2 && /^1[18]/.test(digits));
}

/** "a 7", "an 8": English only, never inside a translated sentence. */
export function withArticle(number) {
  return `${takesAn(number) ? "an" : "a"} ${number}`;
}

/** "The convolutional network" as it reads after other words: "the convolutional network". */
export function inSentence(title) {
  return title.charAt(0).toLowerCase() + title.slice(1);
}

/** What a round asks for, in the page's language: "Draw a 7", "Fool the model with an 8", "Draw any digit" (the
 * API's `prompt` stays English). `round`: {kind, digit, fool}. */
export function roundPrompt(round) {
  const { kind, digit, fool } = round;
  if (kind !== "digit") return fool ? t("Fool the model with any digit") : t("Draw any digit");
  if (fool) {
    return takesAn(digit) ? t("Fool the model with an {digit}", { digit }) : t("Fool the model with a {digit}", { digit });
  }
  return takesAn(digit) ? t("Draw an {digit}", { digit }) : t("Draw a {digit}", { digit });
}
