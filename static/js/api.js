/** Calls to the Digit Draw HTTP API; every failure becomes an Error whose message a person can read, in the
 * page's language when the server sent one (`message`), else the English `error`. */

import { locale, t } from "./i18n.js";

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function statusSentence(status) {
  if (status === 413) return t("The image is too large for the server. Try a smaller one.");
  if (status >= 500) return t("The server ran into a problem (error {status}). Try again in a moment.", { status });
  return t("The server refused the request (error {status}).", { status });
}

/**
 * Fetch and return the JSON body (null for a 204); throw an Error carrying the server's own sentence on failure
 * (and the refusal's HTTP `status`; none when the server could not be reached).
 */
export async function requestJson(url, options = {}) {
  let response;
  const headers = new Headers(options.headers);
  if (!headers.has("Accept-Language")) headers.set("Accept-Language", locale);   // refusals in the page's language
  try {
    response = await fetch(url, { ...options, headers });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error(t("The server could not be reached. Check the connection and try again."));
  }
  if (response.status === 204) return null;   // done, nothing to say
  const body = await readJson(response);
  if (!response.ok) {
    const refusal = new Error(body?.message ?? body?.error ?? statusSentence(response.status));
    refusal.status = response.status;
    throw refusal;
  }
  if (body === null) throw new Error(t("The server sent an answer that is not JSON."));
  return body;
}

/** POST `fields` as multipart/form-data (a Blob goes as a file, null and undefined are left out); return the JSON body. */
export function postForm(url, fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof Blob) form.append(name, value, value.name ?? "drawing.png");
    else if (value !== null && value !== undefined) form.append(name, String(value));
  }
  return requestJson(url, { method: "POST", body: form });
}

/** The `model` that asks /api/predict for every model's answer (under `models`, best first) from one upload. */
export const EVERY_MODEL = "all";

/** POST /api/predict with the drawing (or an uploaded file) as the multipart field `image`. */
export function predict(url, blob, { model, mode }) {
  return postForm(url, { image: blob, model, mode });
}
