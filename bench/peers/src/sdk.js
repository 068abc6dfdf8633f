// AWS SDK for JavaScript v3: @aws-sdk/lib-storage Upload on @aws-sdk/client-s3, 4 parts in
// flight, 8 MiB parts, CRC32 per part computed by the SDK in JS (plus its SHA-256 payload
// signing). lib-storage reads each part of the File into memory and sends it as bytes.
//
// moto sends no CORS headers on POST and DELETE object responses, so a middleware sends
// CreateMultipartUpload, CompleteMultipartUpload and AbortMultipartUpload to the bench's CORS
// shim in front of moto; part PUTs go to moto directly.
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { config, MIB, onFile } from "./common.js";

const shim = new URL(config.shim);

function client(marks) {
  const s3 = new S3Client({
    endpoint: config.s3,
    forcePathStyle: true,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
  });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName;
      if (name === "CompleteMultipartUploadCommand") window.benchCompleting = performance.now();
      const out = await next(args);
      if (name === "UploadPartCommand") {
        marks.parts += 1;
        marks.partsDoneMs = performance.now();
      }
      return out;
    },
    { step: "initialize", name: "benchMarks" },
  );
  s3.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request;
      if (req.method === "POST" || req.method === "DELETE") {
        req.hostname = shim.hostname;
        req.port = Number(shim.port);
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "benchCorsShim", priority: "low" },
  );
  return s3;
}

onFile(async (file, marks) => {
  const upload = new Upload({
    client: client(marks),
    queueSize: 4,
    partSize: 8 * MIB,
    leavePartsOnError: false,
    params: {
      Bucket: config.bucket,
      Key: `bench/sdk-${crypto.randomUUID()}.bin`,
      Body: file,
      ChecksumAlgorithm: "CRC32",
    },
  });
  await upload.done();
});
