/** The join dialog: the QR code of the address students open (made by the server), and that address in large text. */

export class JoinDialog {
  constructor(dialog, button) {
    this.dialog = dialog;
    this.qr = dialog.querySelector("#join-qr");
    button.addEventListener("click", () => this.open());
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();   // a click on the backdrop
    });
  }

  open() {
    if (!this.qr.src) this.qr.src = this.qr.dataset.src;   // fetched only when first shown
    if (!this.dialog.open) this.dialog.showModal();
  }
}
