// What to do after a part request fails, and how long to wait before trying again.

export const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
// S3 error codes that mean "these credentials are no longer good": refresh once, then retry.
const REFRESH_CODES = new Set([
  "ExpiredToken",
  "TokenRefreshRequired",
  "InvalidToken",
  "InvalidAccessKeyId",
  "RequestExpired",
]);
const RETRY_CODES = new Set(["RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"]);

/** The <Code> of an S3 XML error body, or "". */
export function errorCode(body) {
  const m = /<Code>([^<]+)<\/Code>/.exec(body || "");
  return m ? m[1] : "";
}

/**
 * Classify a part response: "ok", "retry" (transient; back off), "refresh" (new credentials,
 * then retry), "gone" (the multipart upload no longer exists), "changed" (the bytes sent do
 * not have the checksum hashed earlier: the file changed on disk) or "fatal".
 * status 0 is a network error (XHR onerror/onabort/timeout).
 */
export function classify(status, body = "") {
  if (status >= 200 && status < 300) return "ok";
  if (status === 0) return "retry";
  const code = errorCode(body);
  // Over TLS the bytes cannot change on the way, so a checksum S3 computes differently from
  // the one hashed from the file means the file itself changed since.
  if (code === "BadDigest") return "changed";
  if (REFRESH_CODES.has(code) || code === "RequestTimeTooSkewed") return "refresh";
  if (status === 403) return "refresh";
  if (RETRY_CODES.has(code) || RETRY_STATUS.has(status)) return "retry";
  if (status === 404 && code === "NoSuchUpload") return "gone";
  return "fatal";
}

/**
 * Exponential backoff with "equal jitter": half the window is fixed, half random, so waits
 * grow but parallel parts do not retry in lockstep.
 */
export function backoffDelay(attempt, { baseMs = 500, capMs = 30_000, random = Math.random } = {}) {
  const window = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return window / 2 + random() * (window / 2);
}

export const DEFAULT_RETRY = Object.freeze({
  maxAttempts: 10, // per part, network errors and 5xx, not counting time spent offline
  baseMs: 500,
  capMs: 30_000,
  offlinePauseMs: 10 * 60_000, // offline longer than this: pause the upload and say so
  completeForMs: 20 * 60_000, // keep asking to complete: past the portal's own recovery (10 min)
});

export const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
