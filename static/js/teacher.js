/**
 * Requests the signed-in teacher's pages make: they carry the page's CSRF token (the server checks it with
 * the session cookie, which only this site's pages send). A refusal's sentence says what to do, e.g. sign in
 * again when the session ended.
 */

import { requestJson } from "./api.js";

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** `method` on `url` with an optional JSON body; the JSON answer, or null for 204. */
export async function teacherRequest(method, url, body) {
  const headers = { "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const options = { method, headers, credentials: "same-origin" };
  if (body !== undefined) options.body = JSON.stringify(body);
  if (method === "DELETE") {
    const response = await fetch(url, options).catch(() => {
      throw new Error("The server could not be reached. Check the connection and try again.");
    });
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new Error(answer?.error ?? `The server refused (error ${response.status}).`);
    return answer;
  }
  return requestJson(url, options);
}
