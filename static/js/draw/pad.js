/**
 * The drawing surface. Strokes are kept as vector point lists in units of the canvas side (0..1),
 * so a resize, a rotation of the phone or presenter mode redraws them crisply at any size.
 * Pointer Events cover mouse, pen and touch alike.
 */

const BRUSH_WIDTH = { digit: 0.06, number: 0.04 };   // fraction of the canvas side, like a marker on paper
const ERASER_SCALE = 2.5;
const MIN_STEP = 0.002;                               // ignore moves smaller than this (fraction of the side)
const SMALL_PICTURE = 64;                             // pictures up to this size are enlarged without smoothing

export class DrawingPad {
  constructor(canvas, { onStroke = () => {}, onStrokeEnd = () => {}, onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.callbacks = { onStroke, onStrokeEnd, onChange };
    this.strokes = [];
    this.picture = null;
    this.tool = "pen";
    this.brush = BRUSH_WIDTH.digit;
    this.active = null;
    this.redrawPending = false;
    this.listen();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  listen() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => this.start(event));
    canvas.addEventListener("pointermove", (event) => this.extend(event));
    canvas.addEventListener("pointerup", (event) => this.finish(event));
    canvas.addEventListener("pointercancel", (event) => this.finish(event));
    canvas.addEventListener("lostpointercapture", (event) => this.finish(event));
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
  }

  /** The canvas backing store follows its CSS size times devicePixelRatio: crisp on high-DPI screens. */
  resize() {
    const side = this.canvas.clientWidth;
    const ratio = window.devicePixelRatio || 1;
    const pixels = Math.max(1, Math.round(side * ratio));
    if (this.canvas.width !== pixels || this.canvas.height !== pixels) {
      this.canvas.width = pixels;
      this.canvas.height = pixels;
    }
    this.redraw();
  }

  pointFrom(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
  }

  start(event) {
    if (this.active || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    if (this.picture) this.picture = null;   // drawing starts a fresh sheet after an uploaded image
    const eraser = this.tool === "eraser";
    const stroke = { eraser, width: this.brush * (eraser ? ERASER_SCALE : 1), points: [this.pointFrom(event)] };
    this.strokes.push(stroke);
    this.active = { pointerId: event.pointerId, stroke };
    this.scheduleRedraw();
    this.callbacks.onChange();
  }

  extend(event) {
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    const points = this.active.stroke.points;
    const samples = event.getCoalescedEvents?.() ?? [];
    for (const sample of samples.length ? samples : [event]) {
      const point = this.pointFrom(sample);
      const last = points[points.length - 1];
      if (Math.hypot(point[0] - last[0], point[1] - last[1]) >= MIN_STEP) points.push(point);
    }
    this.scheduleRedraw();
    this.callbacks.onStroke();
  }

  finish(event) {
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    this.active = null;
    this.redraw();
    this.callbacks.onStrokeEnd();
  }

  scheduleRedraw() {
    if (this.redrawPending) return;
    this.redrawPending = true;
    requestAnimationFrame(() => {
      this.redrawPending = false;
      this.redraw();
    });
  }

  redraw() {
    const { canvas, context } = this;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.globalCompositeOperation = "source-over";
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (this.picture) this.drawPicture();
    const ink = getComputedStyle(canvas).color;
    for (const stroke of this.strokes) drawStroke(context, stroke, canvas.width, ink);
    context.globalCompositeOperation = "source-over";
    canvas.parentElement.classList.toggle("has-ink", !this.isEmpty());
  }

  drawPicture() {
    const { bitmap } = this.picture;
    if (!bitmap) return;
    const [x, y, width, height] = this.pictureRect().map((value) => value * this.canvas.width);
    this.context.imageSmoothingEnabled = Math.max(bitmap.width, bitmap.height) > SMALL_PICTURE;
    this.context.drawImage(bitmap, x, y, width, height);
    this.context.imageSmoothingEnabled = true;
  }

  /** Where the uploaded picture lies on the canvas, as [x, y, width, height] fractions of the side. */
  pictureRect() {
    const { width, height } = this.picture;
    const scale = 1 / Math.max(width, height);
    const [w, h] = [width * scale, height * scale];
    return [(1 - w) / 2, (1 - h) / 2, w, h];
  }

  isEmpty() {
    return !this.picture && this.strokes.length === 0;
  }

  setTool(tool) {
    this.tool = tool;
    this.canvas.classList.toggle("erasing", tool === "eraser");
  }

  setMode(mode) {
    this.brush = BRUSH_WIDTH[mode];
  }

  undo() {
    if (this.active) return;
    if (this.strokes.length) this.strokes.pop();
    else this.picture = null;
    this.redraw();
    this.callbacks.onChange();
  }

  clear() {
    this.strokes = [];
    this.picture = null;
    this.active = null;
    this.redraw();
    this.callbacks.onChange();
  }

  /** Show an uploaded image instead of the drawing, as soon as the browser has decoded it. */
  showPicture(file) {
    const picture = { file, bitmap: null, width: 1, height: 1 };
    picture.ready = decodeForDisplay(file).then((bitmap) => {
      if (!bitmap) return;
      Object.assign(picture, { bitmap, width: bitmap.width, height: bitmap.height });
      if (this.picture === picture) this.redraw();
    });
    this.strokes = [];
    this.picture = picture;
    this.redraw();
    this.callbacks.onChange();
  }

  /**
   * What to send to the model: the uploaded file, or a PNG of the canvas (transparent background,
   * the ink in its alpha channel), plus where that image lies on the canvas to place the digit boxes.
   */
  async snapshot() {
    if (this.picture) {
      await this.picture.ready;
      const { file, width, height } = this.picture;
      return { blob: file, frame: { width, height, rect: this.pictureRect() } };
    }
    const { width, height } = this.canvas;
    const blob = await new Promise((resolve) => this.canvas.toBlob(resolve, "image/png"));
    return { blob, frame: { width, height, rect: [0, 0, 1, 1] } };
  }
}

/** The file decoded for display, or null if this browser cannot show it (the server still gets a say). */
async function decodeForDisplay(file) {
  try {
    return await createImageBitmap(file);
  } catch {
    return null;
  }
}

/** One stroke as a smooth curve: quadratic segments through the midpoints, round caps and joins. */
function drawStroke(context, stroke, side, ink) {
  const points = stroke.points.map(([x, y]) => [x * side, y * side]);
  const width = stroke.width * side;
  context.globalCompositeOperation = stroke.eraser ? "destination-out" : "source-over";
  context.strokeStyle = ink;
  context.fillStyle = ink;
  context.lineWidth = width;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.beginPath();
  if (points.length === 1) {
    context.arc(points[0][0], points[0][1], width / 2, 0, Math.PI * 2);
    context.fill();
    return;
  }
  context.moveTo(...points[0]);
  for (let i = 1; i < points.length - 1; i += 1) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    context.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
  }
  context.lineTo(...points[points.length - 1]);
  context.stroke();
}
