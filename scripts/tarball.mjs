// Reads an npm tarball (gzip + ustar) without a tar binary, and lists what must not be published: build state,
// source maps whose sources are not shipped, `workspace:` ranges that no registry install can resolve.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { gunzipSync } from "node:zlib";

/** Map of path inside the package (without the leading `package/`) to its bytes. */
export function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map();
  const text = (at, length) => tar.toString("utf8", at, at + length).replace(/\0.*$/s, "");
  let longName = null;
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = text(at, 100);
    if (name === "") break;
    const size = Number.parseInt(text(at + 124, 12).trim() || "0", 8);
    const type = text(at + 156, 1);
    const prefix = text(at + 345, 155);
    const body = tar.subarray(at + 512, at + 512 + size);
    if (type === "x") {
      // A pax header: only `path` matters here (names longer than ustar's 100 + 155 characters).
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"));
      longName = path ? path[1] : null;
    } else if (type === "0" || type === "") {
      const full = longName ?? (prefix ? `${prefix}/${name}` : name);
      files.set(full.replace(/^package\//, ""), body);
      longName = null;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export function tarballProblems(file) {
  const files = readTarball(file);
  const problems = [];
  if (!files.has("LICENSE")) problems.push("no LICENSE");
  for (const [path, body] of files) {
    if (path.endsWith(".tsbuildinfo")) problems.push(`${path}: TypeScript build state`);
    if (!path.endsWith(".map")) continue;
    const map = JSON.parse(body.toString("utf8"));
    const base = posix.join(posix.dirname(path), map.sourceRoot ?? "");
    for (const source of map.sources ?? []) {
      const target = posix.normalize(posix.join(base, source));
      if (!files.has(target))
        problems.push(
          `${path}: its source ${target} is not in the tarball (stale build output? delete dist/ and build)`,
        );
    }
  }
  const manifest = JSON.parse(files.get("package.json").toString("utf8"));
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith("workspace:")) problems.push(`package.json ${field}: ${name} is ${range}`);
    }
  }
  return problems;
}
