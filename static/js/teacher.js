/**
 * Requests the signed-in teacher's pages make: they carry the page's CSRF token (the server checks it with
 * the session cookie, which only this site's pages send). A refusal's sentence says what to do, e.g. sign in
 * again when the session ended.
 */

import { requestJson } from "./api.js";

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/**
 * `method` on `url` with an optional JSON body; the JSON answer, or null for 204. `keepalive`: the request is
 * sent even when the page is being left.
 */
export function teacherRequest(method, url, body, { keepalive = false } = {}) {
  const headers = { "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const options = { method, headers, credentials: "same-origin", keepalive };
  if (body !== undefined) options.body = JSON.stringify(body);
  return requestJson(url, options);
}
