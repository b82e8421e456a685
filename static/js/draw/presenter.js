/**
 * Presenter mode: full screen where the browser allows it, and the big projector layout. The first time it
 * starts on a page, `onFirstStart` runs (the page shows the join QR code then).
 */

export class Presenter {
  constructor(button, { onFirstStart } = {}) {
    this.button = button;
    this.onFirstStart = onFirstStart;
    this.started = false;
    button.addEventListener("click", (event) => this.toggle(event));
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && this.isOn()) this.set(false);
    });
  }

  isOn() {
    return document.body.classList.contains("presenter");
  }

  /** `event`: the click that asked for it, handed on to `onFirstStart`. */
  toggle(event) {
    const on = !this.isOn();
    this.set(on);
    if (on && document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
    if (on && !this.started) {
      this.started = true;
      this.onFirstStart?.(event);
    }
  }

  set(on) {
    document.body.classList.toggle("presenter", on);
    this.button.setAttribute("aria-pressed", String(on));
  }
}
