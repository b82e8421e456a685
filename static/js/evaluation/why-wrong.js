/**
 * The evaluation page's look inside a model: its first layer's filters, and for a wrong test digit that is
 * clicked, where the model looked for the true digit and for the one it said (POST /api/explain twice).
 */

import { postForm, requestJson } from "../api.js";
import { element } from "../dom.js";
import { drawHeatMap, heatMapLabel } from "../heat-map.js";
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
    figure.setAttribute("aria-label",
      `Where ${inSentence(title)} looked: a test ${record.true} it read as ${record.predicted}`);
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
  detail.replaceChildren(element("p", { class: "muted", text: "Looking inside…" }));
  const image = blobOf(record.image);
  try {
    const answers = await Promise.all([record.true, record.predicted].map((target) =>
      postForm(url, { image, model, target })));
    if (detail.dataset.ticket !== ticket) return;
    const again = answers[0].digit;   // the picture goes through the preprocessing once more
    detail.replaceChildren(
      element("p", { text: `A test ${record.true} that ${inSentence(title)} read as ${record.predicted}`
        + (again === record.predicted ? ":" : ` (read again from its picture, it says ${again}):`) }),
      element("div", { class: "why-pair" }, ...answers.map((answer, index) => {
        const canvas = element("canvas", { width: 280, height: 280, role: "img",
          "aria-label": heatMapLabel(answer.target, answer.evidence > 0 ? answer.saliency : null) });
        drawHeatMap(canvas, answer.input, answer.saliency);
        return element("figure", {}, canvas, element("figcaption", {
          text: index === 0 ? `Where it looked for ${answer.target}, the true digit`
            : `Where it looked for ${answer.target}, what it said` }));
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
      return element("p", { class: "muted" }, "No stroke patterns to show: its first layer's "
        + `${first?.shape.join("×") ?? ""} units each weigh every pixel of the digit at once. `,
      element("small", { class: "technical", text: `(no convolution; ${first?.name ?? "dense"})` }));
    }
    return element("figure", { class: "filters" },
      element("img", { class: "pixelated", src: inside.filters.image,
        alt: `The ${inside.filters.count} filters of ${inside.filters.layer}: light where a filter wants ink, `
          + "dark where it wants none" }),
      element("figcaption", {}, `${inside.filters.count} stroke patterns its first look searches for, `
        + `${inside.filters.size.join(" by ")} pixels each `,
      element("small", { class: "technical", text: `(filters of ${inside.filters.layer})` })));
  } catch (error) {
    return element("p", { class: "notice", text: error.message });
  }
}
