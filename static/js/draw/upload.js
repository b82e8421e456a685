/** Image files from the file picker or dropped on the canvas, handed to `onFile`. */

export function acceptImageFiles({ input, dropZone, onFile }) {
  input.addEventListener("change", () => {
    if (input.files.length) onFile(input.files[0]);
    input.value = "";
  });
  const setDropping = (on) => dropZone.classList.toggle("dropping", on);
  dropZone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    setDropping(true);
  });
  dropZone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  dropZone.addEventListener("dragleave", (event) => {
    if (!dropZone.contains(event.relatedTarget)) setDropping(false);
  });
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    setDropping(false);
    const file = event.dataTransfer.files[0];
    if (file) onFile(file);
  });
  // A file dropped next to the canvas must not make the browser leave the page to open it.
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());
}

