/** The atomic-write helpers live in @nabla/io (one home); re-exported for the modules of this package. */
export { hasCode, tempPathFor, writeFileAtomic } from "@nabla/io";
