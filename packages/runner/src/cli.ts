#!/usr/bin/env node
import { runCli } from "./commands.js";

// Exit explicitly: a loaded TF.js backend or a stray timer must not keep a finished CLI alive.
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nabla: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
