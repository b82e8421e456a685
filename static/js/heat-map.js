/** A saliency heat map: the 28x28 model input in grey with warm colours where the model looked. */

import { t } from "./i18n.js";

const SCALE = 10;   // drawn at 280x280 from the 28x28 saliency

/**
 * Draw on `canvas` (280x280) the image at `inputUrl` with `saliency` (28 rows of 28 values in [0, 1]) over it.
 * A later call wins: an image that loads after a newer call (or after `clearHeatMap`) draws nothing.
 */
export function drawHeatMap(canvas, inputUrl, saliency) {
  const drawing = String(Number(canvas.dataset.drawing ?? 0) + 1);
  canvas.dataset.drawing = drawing;
  canvas.dataset.drawn = "false";
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const picture = new Image();
  picture.onload = () => {
    if (canvas.dataset.drawing !== drawing) return;
    context.imageSmoothingEnabled = false;
    context.globalAlpha = 0.55;
    context.drawImage(picture, 0, 0, canvas.width, canvas.height);
    context.globalAlpha = 1;
    saliency.forEach((row, y) => row.forEach((value, x) => {
      if (value <= 0.02) return;
      context.fillStyle = `rgba(255, ${Math.round(200 * (1 - value))}, 0, ${0.25 + 0.75 * value})`;
      context.fillRect(x * SCALE, y * SCALE, SCALE, SCALE);
    }));
    canvas.dataset.drawn = "true";
  };
  picture.src = inputUrl;
}

export function clearHeatMap(canvas) {
  canvas.dataset.drawing = String(Number(canvas.dataset.drawing ?? 0) + 1);
  canvas.dataset.drawn = "false";
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

/** Where most of the weight sits, in words: "in the top left", "in the middle", ... (null when there is none). */
function whereItSits(saliency) {
  let total = 0;
  let sumX = 0;
  let sumY = 0;
  saliency.forEach((row, y) => row.forEach((value, x) => {
    total += value;
    sumX += value * x;
    sumY += value * y;
  }));
  if (total === 0) return null;
  const third = (position) => Math.min(2, Math.floor((position / total) / (saliency.length / 3)));
  return [
    [t("in the top left"), t("in the top centre"), t("in the top right")],
    [t("in the middle left"), t("in the middle"), t("in the middle right")],
    [t("in the bottom left"), t("in the bottom centre"), t("in the bottom right")],
  ][third(sumY)][third(sumX)];
}

/** The text alternative of a heat map explaining `target`. */
export function heatMapLabel(target, saliency) {
  const where = saliency ? whereItSits(saliency) : null;
  if (!where) return t("Heat map over the 28 by 28 input: no ink speaks for {digit}", { digit: target });
  return t("Heat map over the 28 by 28 input: the ink that speaks most for {digit} sits {where}; the warmer a spot, "
    + "the more the model's belief drops when its ink is removed", { digit: target, where });
}
