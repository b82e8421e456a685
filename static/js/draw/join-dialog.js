/** The join dialog: the QR code of the address students open (made by the server), and that address in large text. */

export class JoinDialog {
  constructor(dialog, button) {
    this.dialog = dialog;
    this.qr = dialog.querySelector("#join-qr");
    this.openedByPointer = false;
    button.addEventListener("click", (event) => this.open(event));
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();   // a click on the backdrop
    });
    dialog.addEventListener("close", () => {
      // The browser gives focus back to the button that opened it; after a mouse or finger the page keeps it,
      // so the next key is a shortcut again (keyboard users get their button back).
      if (this.openedByPointer) requestAnimationFrame(() => document.activeElement?.blur());
    });
  }

  /** `event`: the click that asked for it, if any (its detail is 0 for Enter, Space or a shortcut key). */
  open(event) {
    this.openedByPointer = (event?.detail ?? 0) > 0;
    if (!this.qr.src) this.qr.src = this.qr.dataset.src;   // fetched only when first shown
    if (!this.dialog.open) this.dialog.showModal();
  }
}
