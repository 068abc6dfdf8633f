// Temporary S3 credentials, in memory only (never IndexedDB or localStorage), refreshed a
// margin before they expire, and the offset between the portal's clock and this computer's,
// so SigV4 dates are right even when the customer's clock is not.

import { backoffDelay, sleep } from "./retry.js";

export class CredentialsError extends Error {
  constructor(message, { code = "", fatal = false } = {}) {
    super(message);
    this.code = code;
    this.fatal = fatal;
  }
}

/** SigV4's X-Amz-Date form: 20260101T120000Z. */
export function amzDate(ms) {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

export class CredentialSource {
  /**
   * fetchCredentials(): Promise<API credentials JSON>; it throws CredentialsError with
   * fatal=true when the portal refuses (upload no longer active), anything else is retried.
   */
  constructor(fetchCredentials, { now = () => Date.now(), marginMs = 5 * 60_000, maxAttempts = 6,
    baseMs = 1000, random = Math.random, wait = sleep } = {}) {
    this.fetchCredentials = fetchCredentials;
    this.now = now;
    this.marginMs = marginMs;
    this.maxAttempts = maxAttempts;
    this.baseMs = baseMs;
    this.random = random;
    this.wait = wait;
    this.current = null;
    this.expiresAt = 0; // portal clock, ms
    this.skewMs = 0; // portal clock minus local clock
    this.inflight = null;
    this.generation = 0;
  }

  /** The portal's idea of now, from the local clock and the measured offset. */
  serverNow() {
    return this.now() + this.skewMs;
  }

  /** Refresh when less than the margin is left; short-lived credentials get a third of
   * their life as margin so they are not refreshed on every call. */
  needsRefresh() {
    if (!this.current) return true;
    const life = this.expiresAt - this.issuedAt;
    const margin = Math.min(this.marginMs, life / 3);
    return this.serverNow() >= this.expiresAt - margin;
  }

  /** Credentials good for at least the margin, as {accessKeyId, ..., generation}. */
  async get() {
    if (this.needsRefresh()) await this.refresh();
    return this.current;
  }

  /**
   * A part was refused with these credentials (ExpiredToken/403): refresh once, however many
   * parts report the same failure at the same time.
   */
  async invalidate(used) {
    if (this.current && used && used.generation !== this.current.generation) return this.current;
    await this.refresh();
    return this.current;
  }

  refresh() {
    if (!this.inflight) {
      this.inflight = this._refresh().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  async _refresh() {
    let lastError;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const sent = this.now();
      try {
        const c = await this.fetchCredentials();
        const received = this.now();
        const serverTime = Date.parse(c.server_time);
        // The server read its clock somewhere between send and receive: take the midpoint.
        if (Number.isFinite(serverTime)) this.skewMs = serverTime - (sent + received) / 2;
        this.expiresAt = Date.parse(c.expiration);
        this.issuedAt = this.serverNow();
        this.current = {
          accessKeyId: c.access_key_id,
          secretAccessKey: c.secret_access_key,
          sessionToken: c.session_token,
          region: c.region,
          endpoint: c.endpoint,
          bucket: c.bucket,
          key: c.key,
          generation: ++this.generation,
        };
        return;
      } catch (err) {
        lastError = err;
        if (err instanceof CredentialsError && err.fatal) throw err;
        if (attempt < this.maxAttempts) {
          await this.wait(backoffDelay(attempt, { baseMs: this.baseMs, random: this.random }));
        }
      }
    }
    throw new CredentialsError(`Could not get upload permission from the portal: ${lastError?.message}`, {
      code: "credentials_unavailable",
    });
  }

  /** X-Amz-Date for a request signed now, on the portal's clock. */
  amzDate() {
    return amzDate(this.serverNow());
  }
}
