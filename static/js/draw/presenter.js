/** Presenter mode: full screen where the browser allows it, and always the big high-contrast layout. */

export class Presenter {
  constructor(button) {
    this.button = button;
    button.addEventListener("click", () => this.toggle());
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && this.isOn()) this.set(false);
    });
  }

  isOn() {
    return document.body.classList.contains("presenter");
  }

  toggle() {
    const on = !this.isOn();
    this.set(on);
    if (on && document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
  }

  set(on) {
    document.body.classList.toggle("presenter", on);
    this.button.setAttribute("aria-pressed", String(on));
  }
}
