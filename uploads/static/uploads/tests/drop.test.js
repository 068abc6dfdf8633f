import assert from "node:assert/strict";
import { test } from "node:test";
import { filesFromDataTransfer } from "../drop.js";

// Stand-ins for the File and Directory System entries a real folder drop hands over; the
// browser tests cannot build one (a script-made DataTransfer has no directory entries).
const file = (name) => ({ isFile: true, isDirectory: false, name, file: (ok) => ok(new File(["x"], name)) });
const dir = (name, children, batch = 2) => ({
  isFile: false,
  isDirectory: true,
  name,
  createReader() {
    let at = 0;
    // Like Chromium, readEntries answers a few entries at a time, then an empty batch.
    return { readEntries: (ok) => ok(children.slice(at, (at += batch))) };
  },
});
const drop = (...entries) => ({ items: entries.map((e) => ({ webkitGetAsEntry: () => e })), files: [] });

test("a dropped folder is walked to the end of every batch, keeping paths relative to it", async () => {
  const tree = dir("export", [
    file("a.csv"),
    dir("2024", [file("jan.csv"), file("feb.csv"), file("mar.csv"), dir("empty", [])]),
    file("b.csv"),
    file("c.csv"),
  ]);
  const got = await filesFromDataTransfer(drop(tree, file("notes.txt")));
  assert.deepEqual(got.map((f) => [f.relativePath, f.file.name]), [
    ["export/a.csv", "a.csv"],
    ["export/2024/jan.csv", "jan.csv"],
    ["export/2024/feb.csv", "feb.csv"],
    ["export/2024/mar.csv", "mar.csv"],
    ["export/b.csv", "b.csv"],
    ["export/c.csv", "c.csv"],
    ["", "notes.txt"],
  ]);
});

test("a drop without entries (a script-made DataTransfer) falls back to its files", async () => {
  const f = new File(["x"], "one.bin");
  const got = await filesFromDataTransfer({ items: [{ webkitGetAsEntry: () => null }], files: [f] });
  assert.deepEqual(got, [{ file: f, relativePath: "", handle: null }]);
});

test("a file dropped by itself keeps its handle, asked for while the drop event runs; a folder's files have none", async () => {
  const asked = [];
  const handleOf = (name) => ({ kind: "file", name });
  const item = (entry, handle) => ({
    kind: "file",
    webkitGetAsEntry: () => entry,
    getAsFileSystemHandle: () => {
      asked.push(entry.name);
      return Promise.resolve(handle);
    },
  });
  const tree = dir("export", [file("a.csv")]);
  const dt = {
    items: [item(file("dump.dmp"), handleOf("dump.dmp")), item(tree, { kind: "directory", name: "export" })],
    files: [],
  };
  const pending = filesFromDataTransfer(dt);
  // Before the first await: a DataTransfer's items are gone once its event has returned.
  assert.deepEqual(asked, ["dump.dmp", "export"]);
  const got = await pending;
  assert.deepEqual(got.map((f) => [f.relativePath || f.file.name, f.handle?.name ?? null]), [
    ["dump.dmp", "dump.dmp"],
    ["export/a.csv", null],
  ]);
});

test("a browser without the File System Access API drops files without handles", async () => {
  const got = await filesFromDataTransfer(drop(file("x.bin")));
  assert.equal(got[0].handle, null);
});
