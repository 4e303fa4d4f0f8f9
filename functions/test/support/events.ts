import { buildHttpApiEvent, type HttpRequestSpec } from "../../../shared/payload-v2.js";
import type { HttpResponse } from "../../http.js";

const JSON_HEADERS = { "content-type": "application/json" };

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return buildHttpApiEvent({
    method: "POST",
    path,
    headers: { ...JSON_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
}

export function postRaw(path: string, body: string, headers: HttpRequestSpec["headers"] = JSON_HEADERS) {
  return buildHttpApiEvent({ method: "POST", path, headers: headers ?? {}, body });
}

export function get(path: string, headers: Record<string, string> = {}) {
  return buildHttpApiEvent({ method: "GET", path, headers });
}

/** The parsed JSON body of a response. */
export function bodyOf<T = Record<string, unknown>>(response: HttpResponse): T {
  return JSON.parse(response.body) as T;
}
