/** The header's language picker sends its form as soon as a language is chosen (a button does it without
 * JavaScript). */

const picker = document.getElementById("language-picker");
if (picker) picker.addEventListener("change", () => picker.form.submit());
