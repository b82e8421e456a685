/** Test digits as small pictures with what the model said, and its ten probabilities as a sparkline. */

import { element, percent } from "../dom.js";
import { t } from "../i18n.js";
import { takesAn } from "../words.js";

/** "a 3", "an 8". */
const aDigit = (digit) => (takesAn(digit) ? t("an {digit}", { digit }) : t("a {digit}", { digit }));

/** `record` is {image, true, predicted, confidence, probabilities} from the report. */
export function digitFigure(record) {
  const right = record.true === record.predicted;
  const chances = record.probabilities;
  const spark = element("span", { class: "spark", "aria-hidden": "true" }, ...chances.map((p, digit) => {
    const bar = element("span", { class: digit === record.predicted ? "is-said" : digit === record.true ? "is-true" : "" });
    bar.style.setProperty("--p", p.toFixed(4));
    return bar;
  }));
  const caption = right
    ? element("figcaption", {}, element("strong", { text: aDigit(record.true) }),
      element("span", { class: "said", text: percent(record.confidence) }))
    : element("figcaption", {},
      element("strong", { text: t("{digit} → {predicted}", { digit: record.true, predicted: record.predicted }) }),
      element("span", { class: "said",
        text: t("said {digit}: {chance}", { digit: record.predicted, chance: percent(record.confidence, 0) }) }),
      element("span", { class: "truth",
        text: t("is {digit}: {chance}", { digit: record.true, chance: percent(chances[record.true], 0) }) }));
  return element("figure", { class: right ? "digit right" : "digit wrong" },
    element("img", { class: "pixelated", src: record.image, width: 28, height: 28,
      alt: right ? t("A test {digit}, read right", { digit: record.true })
        : t("A test {digit}, read as {predicted}", { digit: record.true, predicted: record.predicted }) }),
    caption, spark);
}

export function digitGallery(records) {
  return element("div", { class: "gallery" }, ...records.map(digitFigure));
}

/** Training samples with their labels, one column per digit. */
export function sampleGrid(samples) {
  const seen = new Map();
  const ranked = samples.map((sample) => {
    const rank = seen.get(sample.label) ?? 0;
    seen.set(sample.label, rank + 1);
    return { sample, rank };
  }).sort((a, b) => a.rank - b.rank || a.sample.label - b.sample.label).map(({ sample }) => sample);
  return element("div", { class: "samples-grid" }, ...ranked.map((sample) => element("figure", { class: "digit" },
    element("img", { class: "pixelated", src: sample.image, width: 28, height: 28,
      alt: t("A training {digit}", { digit: sample.label }) }),
    element("figcaption", {}, element("strong", { text: String(sample.label) })))));
}
