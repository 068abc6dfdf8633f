// One part PUT: signed with aws4fetch (headers only, UNSIGNED-PAYLOAD), sent with
// XMLHttpRequest so upload progress is visible, the body a Blob slice of the File.

import { AwsV4Signer } from "../vendor/aws4fetch/aws4fetch.esm.mjs";

/** Encode a key's path segments the way S3's SigV4 canonical URI expects. */
export function encodeKey(key) {
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()))
    .join("/");
}

export function partUrl({ endpoint, bucket, key, uploadId, partNumber }) {
  const base = endpoint.replace(/\/+$/, "");
  return `${base}/${encodeURIComponent(bucket)}/${encodeKey(key)}?partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`;
}

export async function signPart({ creds, uploadId, partNumber, checksum, datetime }) {
  const headers = {};
  if (checksum) {
    headers["x-amz-checksum-crc64nvme"] = checksum;
    headers["x-amz-sdk-checksum-algorithm"] = "CRC64NVME";
  }
  const signer = new AwsV4Signer({
    url: partUrl({ endpoint: creds.endpoint, bucket: creds.bucket, key: creds.key, uploadId, partNumber }),
    method: "PUT",
    headers,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: "s3",
    region: creds.region,
    datetime,
  });
  const signed = await signer.sign();
  return { url: signed.url.toString(), headers: signed.headers };
}

/**
 * PUT body to url. Resolves {status, etag, body} for any HTTP answer, status 0 on network
 * failure or abort; never rejects. onProgress(bytesSoFar) follows the upload.
 */
export function sendPart({ url, headers, body, onProgress, signal, timeoutMs = 0 }) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of headers) {
      if (name !== "host") xhr.setRequestHeader(name, value);
    }
    if (timeoutMs) xhr.timeout = timeoutMs;
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    const fail = () => resolve({ status: 0, etag: null, body: "" });
    xhr.onerror = fail;
    xhr.ontimeout = fail;
    xhr.onabort = fail;
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader("ETag"), body: xhr.responseText });
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    if (signal?.aborted) return fail();
    xhr.send(body);
  });
}
