/** @nabla/io — atomic file writes and the cleanup of temp files left by killed writers (Node only). */
export { hasCode, tempPathFor, writeFileAtomic, writeFileAtomicSync } from "./atomic.js";
export { ensureOutputDir, OutputDirError } from "./dir.js";
export { parseTempName, removeStaleTemps, STALE_TEMP_MS } from "./stale.js";
