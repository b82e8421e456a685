/** Words as people say them: the article a number takes in English, a model's title inside a sentence. */

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
