// What a drop on the drop zone holds: files, and folders walked recursively (readEntries
// answers in batches until an empty one), each file with its path relative to the drop and,
// for a file dropped by itself where the browser has the File System Access API (Chromium),
// its FileSystemFileHandle: kept with the resume state, it lets a later page continue the
// upload without the file being picked again.

/** A dropped item's handle, asked for at once: the items are emptied when the drop event ends. */
function fileHandle(item) {
  if (item.kind !== "file" || !item.getAsFileSystemHandle) return null;
  return item.getAsFileSystemHandle().then((h) => (h?.kind === "file" ? h : null), () => null);
}

/** Files from a drop, folders walked recursively, with their relative paths (and handles). */
export async function filesFromDataTransfer(dt) {
  const items = [...dt.items];
  const handles = items.map(fileHandle);
  const entries = items.map((i) => i.webkitGetAsEntry?.() ?? null);
  if (!entries.some(Boolean)) return [...dt.files].map((file) => ({ file, relativePath: "", handle: null }));
  const out = [];
  const walk = async (entry, prefix, handle = null) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, relativePath: prefix ? `${prefix}/${file.name}` : "", handle: (await handle) ?? null });
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
  for (const [k, e] of entries.entries()) if (e) await walk(e, "", handles[k]);
  return out;
}
