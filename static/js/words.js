/** Words as people say them: the article a number takes, a model's title inside a sentence. */

/** "a 7", "an 8", "an 11", "an 18", "an 80", "an 11000": "an" when the number is read aloud starting with a
 * vowel sound (eight, eleven, eighteen, and their thousands). */
export function withArticle(number) {
  const digits = String(number);
  const vowel = digits.startsWith("8") || (digits.length % 3 === 2 && /^1[18]/.test(digits));
  return `${vowel ? "an" : "a"} ${digits}`;
}

/** "The convolutional network" as it reads after other words: "the convolutional network". */
export function inSentence(title) {
  return title.charAt(0).toLowerCase() + title.slice(1);
}
