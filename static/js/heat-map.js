/** A saliency heat map: the 28x28 model input in grey with warm colours where the model looked. */

const SCALE = 10;   // drawn at 280x280 from the 28x28 saliency

/** Draw on `canvas` (280x280) the image at `inputUrl` with `saliency` (28 rows of 28 values in [0, 1]) over it. */
export function drawHeatMap(canvas, inputUrl, saliency) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const picture = new Image();
  picture.onload = () => {
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
  canvas.dataset.drawn = "false";
  picture.src = inputUrl;
}

/** The text alternative of a heat map explaining `target`. */
export function heatMapLabel(target) {
  return `Heat map over the 28 by 28 input: the warmer a spot, the more the model's belief in ${target} drops `
    + "when its ink is removed";
}
