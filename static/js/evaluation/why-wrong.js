/**
 * The evaluation page's look inside a model: its first layer's filters, and for a wrong test digit that is
 * clicked, where the model looked for the true digit and for the one it said (POST /api/explain twice).
 */

import { postForm, requestJson } from "../api.js";
import { element } from "../dom.js";
import { drawHeatMap, heatMapLabel } from "../heat-map.js";
import { count, t, tn } from "../i18n.js";
import { inSentence } from "../words.js";

/** The gallery of wrong digits, each figure a button that explains it below the gallery. */
/** `model`: the name requests send; `title`: its plain title, for the sentences. */
export function explainableGallery(gallery, records, { url, model, title }) {
  const detail = element("div", { class: "why-wrong", "aria-live": "polite" });
  [...gallery.querySelectorAll("figure")].forEach((figure, index) => {
    const record = records[index];
    figure.classList.add("why-button");
    figure.setAttribute("role", "button");
    figure.setAttribute("tabindex", "0");
    figure.setAttribute("aria-label", t("Where {model} looked: a test {digit} it read as {predicted}",
      { model: inSentence(title), digit: record.true, predicted: record.predicted }));
    const open = () => explainWrong(detail, record, { url, model, title });
    figure.addEventListener("click", open);
    figure.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      open();
    });
  });
  return element("div", {}, gallery, detail);
}

async function explainWrong(detail, record, { url, model, title }) {
  const ticket = String(Number(detail.dataset.ticket ?? 0) + 1);   // a newer click wins over a slower answer
  detail.dataset.ticket = ticket;
  detail.replaceChildren(element("p", { class: "muted", text: t("Looking inside…") }));
  const image = blobOf(record.image);
  try {
    const answers = await Promise.all([record.true, record.predicted].map((target) =>
      postForm(url, { image, model, target })));
    if (detail.dataset.ticket !== ticket) return;
    const again = answers[0].digit;   // the picture goes through the preprocessing once more
    const read = { digit: record.true, model: inSentence(title), predicted: record.predicted, again };
    detail.replaceChildren(
      element("p", { text: again === record.predicted
        ? t("A test {digit} that {model} read as {predicted}:", read)
        : t("A test {digit} that {model} read as {predicted} (read again from its picture, it says {again}):", read) }),
      element("div", { class: "why-pair" }, ...answers.map((answer, index) => {
        const canvas = element("canvas", { width: 280, height: 280, role: "img",
          "aria-label": heatMapLabel(answer.target, answer.evidence > 0 ? answer.saliency : null) });
        drawHeatMap(canvas, answer.input, answer.saliency);
        return element("figure", {}, canvas, element("figcaption", {
          text: index === 0 ? t("Where it looked for {digit}, the true digit", { digit: answer.target })
            : t("Where it looked for {digit}, what it said", { digit: answer.target }) }));
      })));
  } catch (error) {
    if (detail.dataset.ticket === ticket) detail.replaceChildren(element("p", { class: "notice", text: error.message }));
  }
}

/** The PNG in a `data:image/png;base64,` URL as a Blob (the page may not fetch data: URLs: CSP connect-src). */
function blobOf(dataUrl) {
  const [head, base64] = dataUrl.split(",", 2);
  const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
  return new Blob([bytes], { type: head.slice("data:".length).split(";")[0] });
}

/** A model's first-layer filters, or why it has none. */
export async function firstLayerFilters(url) {
  try {
    const inside = await requestJson(url);
    if (!inside.filters) {
      const first = inside.layers.find((layer) => layer.kind === "dense");
      const units = first?.shape.join("×") ?? "";
      return element("p", { class: "muted" },
        t("No stroke patterns to show: its first layer's {units} units each weigh every pixel of the digit at once.",
          { units }), " ",
        element("small", { class: "technical",
          text: t("(no convolution; {layer})", { layer: first?.name ?? "dense" }) }));
    }
    const { filters } = inside;
    return element("figure", { class: "filters" },
      element("img", { class: "pixelated", src: filters.image,
        alt: tn("The {n} filter of {layer}: light where a filter wants ink, dark where it wants none",
          "The {n} filters of {layer}: light where a filter wants ink, dark where it wants none", filters.count,
          { layer: filters.layer }) }),
      element("figcaption", {},
        tn("{n} stroke pattern its first look searches for, {height} by {width} pixels each",
          "{n} stroke patterns its first look searches for, {height} by {width} pixels each", filters.count,
          { height: count(filters.size[0]), width: count(filters.size[1]) }), " ",
        element("small", { class: "technical", text: t("(filters of {layer})", { layer: filters.layer }) })));
  } catch (error) {
    return element("p", { class: "notice", text: error.message });
  }
}
