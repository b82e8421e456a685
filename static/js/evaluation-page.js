/**
 * The evaluation page: fetch every model's report from /api/reports/<name> and draw each topic
 * with the models side by side. A model without a report gets a sentence instead of charts.
 */

import { requestJson } from "./api.js";
import { element } from "./dom.js";
import { renderCalibration } from "./evaluation/calibration.js";
import { renderConfusion } from "./evaluation/confusion.js";
import { renderCurves } from "./evaluation/curves.js";
import { digitGallery, sampleGrid } from "./evaluation/digit-gallery.js";
import { renderPerClass } from "./evaluation/per-class.js";
import { renderScores } from "./evaluation/scores.js";
import { renderStyles } from "./evaluation/styles.js";
import { explainableGallery, firstLayerFilters } from "./evaluation/why-wrong.js";
import { t } from "./i18n.js";
import { inSentence } from "./words.js";

const WRONG_SHOWN = 12;

const TOPICS = {
  scores: (report, model) => renderScores(report, { best: model.best }),
  confusion: (report) => renderConfusion(report),
  curves: (report) => renderCurves(report),
  calibration: (report) => renderCalibration(report),
  styles: (report) => renderStyles(report),
  "per-class": (report, model) => renderPerClass(report,
    t("How well {model} reads each digit: precision, recall and F1", { model: inSentence(model.title) })),
  wrong: (report, model) => {
    const records = (report.misclassified ?? []).slice(0, WRONG_SHOWN);
    return explainableGallery(digitGallery(records), records,
      { url: explainUrl, model: model.name, title: model.title });
  },
};
const explainUrl = document.querySelector("[data-topic='wrong']")?.dataset.explainUrl;

const models = [...document.querySelectorAll("#model-list li")].map((item, index) => ({
  name: item.dataset.name,
  title: item.dataset.title,
  description: item.dataset.description,
  reportUrl: item.dataset.reportUrl,
  insideUrl: item.dataset.insideUrl,
  best: index === 0,
}));

/** One card per model in every topic row, created in order so the columns line up while reports load. */
function placeCards(model) {
  const cards = {};
  for (const row of document.querySelectorAll(".models-row[data-topic]")) {
    const topic = row.dataset.topic;
    const body = element("div", { class: "card-body" },
      element("p", { class: "muted loading", text: t("Loading the report…") }));
    const heading = element("header", { class: "model-card-head" }, element("h3", { text: model.title }),
      element("small", { class: "technical", text: model.name }));
    if (topic === "scores") heading.append(element("p", { class: "muted", text: model.description }));
    row.append(element("article", { class: "card model-card", "data-model": model.name }, heading, body));
    cards[topic] = body;
  }
  return cards;
}

async function showModel(model, cards) {
  let report;
  try {
    report = await requestJson(model.reportUrl);
  } catch (error) {
    for (const body of Object.values(cards)) {
      body.replaceChildren(element("p", { class: "notice", text: error.message }));
    }
    return null;
  }
  for (const [topic, body] of Object.entries(cards)) {
    if (topic === "filters") body.replaceChildren(await firstLayerFilters(model.insideUrl));
    else body.replaceChildren(TOPICS[topic](report, model));
  }
  return report;
}

function showSamples(reports) {
  const holder = document.querySelector("[data-topic='samples']");
  if (!holder) return;
  const withSamples = reports.find((report) => report?.sample_grid?.length);
  holder.replaceChildren(withSamples
    ? sampleGrid(withSamples.sample_grid)
    : element("p", { class: "muted", text: t("No report with training samples is available.") }));
}

const reports = await Promise.all(models.map((model) => showModel(model, placeCards(model))));
showSamples(reports);
document.querySelector("#evaluation").dataset.ready = "true";
