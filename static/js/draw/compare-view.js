/** "Compare all models": one small card with bars per model, all for the same drawing. */

import { BarChart } from "./bar-chart.js";
import { element, percent } from "../dom.js";
import { t } from "../i18n.js";
import { inSentence } from "../words.js";

export class CompareView {
  constructor(panel, models) {
    this.panel = panel;
    this.cards = new Map(models.map((model) => [model.name, compareCard(model)]));
    panel.querySelector("#compare-grid").replaceChildren(...[...this.cards.values()].map((card) => card.root));
  }

  setVisible(visible) {
    this.panel.hidden = !visible;
  }

  /** `answers` is the `models` list of /api/predict with model=all, or null when nothing is drawn. */
  show(answers, selected) {
    for (const [name, card] of this.cards) {
      const found = answers?.find((answer) => answer.model === name)?.digits[0];
      card.root.classList.toggle("is-selected", name === selected);
      card.digit.textContent = found ? String(found.digit) : "?";
      card.confidence.textContent = found ? percent(found.confidence) : "";
      card.bars.update(found ? found.probabilities : null);
    }
  }
}

function compareCard(model) {
  const digit = element("strong", { text: "?" });
  const confidence = element("span");
  const holder = element("div");
  const accuracy = model.accuracy === null ? [] : [` · ${percent(model.accuracy, 2)}`,
    element("span", { class: "not-in-presenter", text: " " + t("on test digits") })];
  const root = element("article", { class: "compare-card", "data-model": model.name },
    element("header", {}, element("h3", { text: model.title }),
      element("small", { class: "muted" }, model.name, ...accuracy)),
    element("p", { class: "compare-answer" }, digit, confidence),
    holder);
  const bars = new BarChart(holder, { label: t("Probabilities from {model}", { model: inSentence(model.title) }),
    compact: true });
  return { root, digit, confidence, bars };
}
