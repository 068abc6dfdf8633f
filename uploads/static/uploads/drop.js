// What a drop on the drop zone holds: files, and folders walked recursively (readEntries
// answers in batches until an empty one), each file with its path relative to the drop.

/** Files from a drop, folders walked recursively, with their relative paths. */
export async function filesFromDataTransfer(dt) {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...dt.files].map((file) => ({ file, relativePath: "" }));
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, relativePath: prefix ? `${prefix}/${file.name}` : "" });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const child of batch) await walk(child, path);
      }
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}
