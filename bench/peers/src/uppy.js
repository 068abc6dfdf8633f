// Uppy 6 (@uppy/core + @uppy/aws-s3): multipart, its default part size (5 MiB minimum,
// size / 10,000 above that) and one part in flight per file, no checksums. Every request is
// presigned in the page (aws4fetch, static credentials) through the plugin's signRequest.
//
// moto sends no CORS headers on POST and DELETE object responses (CreateMultipartUpload,
// CompleteMultipartUpload, AbortMultipartUpload), so those URLs point at the bench's CORS
// shim, which forwards them to moto; part PUTs and ListParts go to moto directly.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
import { AwsV4Signer } from "aws4fetch";
import { config, onFile } from "./common.js";

function encodeKey(key) {
  const strict = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return key.split("/").map(strict).join("/");
}

async function signRequest(req) {
  const base = req.method === "POST" || req.method === "DELETE" ? config.shim : config.s3;
  const url = new URL(`${base}/${config.bucket}/${encodeKey(req.key)}`);
  if (req.method === "POST" && !req.uploadId) url.searchParams.set("uploads", "");
  if (req.uploadId) url.searchParams.set("uploadId", req.uploadId);
  if (req.partNumber) url.searchParams.set("partNumber", String(req.partNumber));
  if (req.method === "POST" && req.uploadId) window.benchCompleting = performance.now();
  const signer = new AwsV4Signer({
    url: url.toString(),
    method: req.method,
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: "s3",
    region: config.region,
    signQuery: true,
  });
  const signed = await signer.sign();
  return { url: signed.url.toString() };
}

onFile(async (file, marks) => {
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, {
    shouldUseMultipart: true, // its default is multipart above 100 MB only; the small validation file is below
    signRequest,
    generateObjectKey: (f) => `bench/uppy-${crypto.randomUUID()}.bin`,
  });
  uppy.on("s3-multipart:part-uploaded", () => {
    marks.parts += 1;
    marks.partsDoneMs = performance.now();
  });
  uppy.addFile({ name: file.name, type: file.type, data: file });
  const result = await uppy.upload();
  if (!result || result.failed.length || result.successful.length !== 1) {
    throw new Error(`Uppy: ${result?.failed?.[0]?.error ?? "no successful upload"}`);
  }
});
