// The portal's upload API (see docs/api), with the session cookie and CSRF header.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor({ base = "/api", csrfToken = "", fetchFn = (...a) => globalThis.fetch(...a) } = {}) {
    this.base = base;
    this.csrfToken = csrfToken;
    this.fetchFn = fetchFn;
  }

  async request(method, path, body) {
    let res;
    try {
      res = await this.fetchFn(this.base + path, {
        method,
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrfToken },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", "The portal could not be reached. Check your connection.");
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) {
      throw new ApiError(res.status, data?.code || `http_${res.status}`, data?.message || `The portal answered ${res.status}.`);
    }
    return data;
  }

  createUpload(projectId, body) {
    return this.request("POST", `/projects/${projectId}/uploads`, body);
  }
  listUploads(projectId, state = "in_progress", size = null) {
    const bySize = size === null ? "" : `&size=${size}`;
    return this.request("GET", `/projects/${projectId}/uploads?state=${state}${bySize}`);
  }
  credentials(id) {
    return this.request("POST", `/uploads/${id}/credentials`);
  }
  parts(id) {
    return this.request("GET", `/uploads/${id}/parts`);
  }
  progress(id, body) {
    return this.request("POST", `/uploads/${id}/progress`, body);
  }
  complete(id, body) {
    return this.request("POST", `/uploads/${id}/complete`, body);
  }
  abort(id) {
    return this.request("POST", `/uploads/${id}/abort`);
  }
}
