/**
 * "Look inside": for the drawing on the pad, what /api/explain says about the selected model: each step from the
 * drawing to the model input, where the model looked (a heat map over its input), what each layer made of it,
 * and the training digits it thinks of. It asks once a stroke has ended (the page tells it), never while the
 * pointer moves; a newer question makes the older answer void. `explain(digit)` explains another digit.
 */

import { postForm } from "../api.js";
import { element, percent } from "../dom.js";
import { clearHeatMap, drawHeatMap, heatMapLabel } from "../heat-map.js";
import { inSentence, withArticle } from "../words.js";

export class InsideView {
  /** `titleOf(name)`: a model's plain title ("The convolutional network" for cnn). */
  constructor(root, { url, titleOf, onToggle }) {
    this.root = root;
    this.url = url;
    this.titleOf = titleOf;
    this.onToggle = onToggle;
    this.asked = 0;
    this.last = null;           // {blob, model}: the drawing to explain again for another digit
    this.parts = Object.fromEntries(["title", "status", "stages", "heat", "heat-caption", "layers", "filters",
      "neighbours", "targets"].map((name) => [name, root.querySelector(`[data-part="${name}"]`)]));
    this.targetButtons = Array.from({ length: 10 }, (_, digit) => {
      const button = element("button", { type: "button", class: "button small inside-target", "data-digit": digit,
        "aria-pressed": "false", "aria-label": `Explain ${digit}`, text: String(digit) });
      button.addEventListener("click", () => this.explain(digit));
      return button;
    });
    this.parts.targets.append(...this.targetButtons);
  }

  isOpen() {
    return !this.root.hidden;
  }

  setOpen(open) {
    this.root.hidden = !open;
    this.onToggle?.(open);
  }

  /** The page's newest drawing (after a stroke ended, an undo, an upload, a change of model); `blob` null:
   * nothing to explain, `reason` says why. */
  show(blob, model, reason = "Draw a digit to see inside the model.") {
    this.last = blob ? { blob, model } : null;
    if (!this.isOpen()) return;
    if (!blob) {
      this.clear(reason);
      return;
    }
    this.explain(null);
  }

  clear(message) {
    this.asked += 1;
    for (const name of ["stages", "layers", "neighbours"]) this.parts[name].replaceChildren();
    this.parts.filters.replaceChildren();
    clearHeatMap(this.parts.heat);
    this.parts["heat-caption"].textContent = "";
    this.parts.title.textContent = "Inside the model";
    this.parts.status.textContent = message;
    this.markTarget(null);
  }

  /** Explain `target` (a digit, or null: the model's own answer) for the last drawing. */
  async explain(target) {
    if (!this.last) return;
    const ticket = ++this.asked;
    this.root.setAttribute("aria-busy", "true");
    if (!this.parts.status.textContent.startsWith("Looking")) this.parts.status.textContent = "Looking inside…";
    try {
      const answer = await postForm(this.url, { image: this.last.blob, model: this.last.model, target });
      if (ticket !== this.asked) return;
      this.render(answer);
    } catch (error) {
      if (ticket === this.asked) this.parts.status.textContent = `Could not look inside: ${error.message}`;
    } finally {
      if (ticket === this.asked) this.root.setAttribute("aria-busy", "false");
    }
  }

  render(answer) {
    if (answer.digit === null) {
      this.clear("I see no ink yet: draw a digit to see inside the model.");
      return;
    }
    const why = answer.target === answer.digit ? `why ${answer.digit}?` : `why not ${answer.target}?`;
    this.parts.title.textContent = `Inside ${inSentence(this.titleOf(answer.model))}: ${why}`;
    this.parts.status.textContent = answer.target === answer.digit
      ? `It reads ${answer.digit} (${percent(answer.confidence)}). Choose another digit to ask why not that one.`
      : `It reads ${answer.digit}; the heat map shows what speaks for ${answer.target} `
        + `(${percent(answer.probabilities[answer.target])}).`;
    this.markTarget(answer.target);
    this.parts.stages.replaceChildren(...answer.stages.map((stage, index) => element("li", { class: "inside-stage" },
      element("img", { src: stage.image, alt: `Step ${index + 1}: ${stage.caption}`, class: "pixelated" }),
      element("span", { text: `${index + 1}. ${stage.caption}` }))));
    this.drawHeat(answer.input, answer.saliency, answer.target, answer.evidence);
    this.parts.layers.replaceChildren(...answer.layers.map(layerItem));
    this.parts.filters.replaceChildren(...(answer.filters ? [
      element("img", { src: answer.filters.image, class: "pixelated",
        alt: `The ${answer.filters.count} filters the first convolution (${answer.filters.layer}) learned: `
          + "light where a filter wants ink, dark where it wants none" }),
      element("figcaption", {}, `The ${answer.filters.count} stroke patterns its first look searches for `,
        element("small", { class: "technical", text: `(filters of ${answer.filters.layer})` }))] : []));
    this.parts.neighbours.replaceChildren(...answer.neighbours.map((neighbour) => element("li",
      { class: neighbour.label === answer.digit ? "inside-neighbour" : "inside-neighbour is-other" },
      element("img", { src: neighbour.image, class: "pixelated",
        alt: `A training ${neighbour.label}, similarity ${neighbour.similarity.toFixed(2)}` }),
      element("span", { text: withArticle(neighbour.label) }))));
  }

  drawHeat(inputUrl, saliency, target, evidence) {
    drawHeatMap(this.parts.heat, inputUrl, saliency);
    this.parts.heat.setAttribute("aria-label", heatMapLabel(target, evidence > 0 ? saliency : null));
    this.parts["heat-caption"].textContent = evidence > 0
      ? `Where the model looked for ${target}: removing the ink in the warm spots lowers its belief the most.`
      : `No ink speaks for ${target}: removing any of it does not make the model believe in ${target} less.`;
  }

  markTarget(target) {
    this.targetButtons.forEach((button, digit) => button.setAttribute("aria-pressed", String(digit === target)));
  }
}

/** One layer: its plain name first, the technical name, kind and shape smaller, and what it made of the drawing. */
function layerItem(layer, index) {
  const what = layer.shape.length === 3 ? `${layer.shape[2]} feature maps, bright where they respond`
    : `${layer.shape.reduce((a, b) => a * b, 1)} units, bright where they respond`;
  return element("li", { class: "inside-layer" },
    element("span", { class: "inside-layer-name" }, element("strong", { text: `${index + 1}. ${layer.plain}` }),
      element("small", { class: "technical", text: `${layer.name} · ${layer.kind} · ${layer.shape.join("×")}` })),
    element("img", { src: layer.image, class: "pixelated",
      alt: `What layer ${index + 1}, ${layer.plain} (${layer.name}, ${layer.kind}, ${layer.shape.join(" by ")}), `
        + `made of the drawing: ${what}` }));
}
