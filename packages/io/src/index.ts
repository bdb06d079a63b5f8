/** @nabla/io — atomic file writes, bounded reads and the cleanup of temp files left by killed writers (Node only). */
export {
  hasCode,
  tempPathFor,
  WRITE_CHUNK_BYTES,
  writeAllSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic.js";
export { ensureOutputDir, OutputDirError } from "./dir.js";
export { formatSize, InputTooLargeError, readFileBounded, readTextBounded } from "./read.js";
export { parseTempName, removeStaleTemps, STALE_TEMP_MS } from "./stale.js";
