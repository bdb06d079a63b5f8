// Package-local data command (the runner's `nabla data fetch|verify` calls the same API):
//   pnpm --filter @nabla/cifar data fetch  [--data-dir DIR] [--user-dir DIR] [--source official|mirror]...
//   pnpm --filter @nabla/cifar data verify [--data-dir DIR] [--user-dir DIR]
// Exit code 0 when the data is verified, 1 otherwise; the error is one line on stderr.
import { fetchCifar10, silentProgress, verifyCifar10 } from "../dist/index.js";

const [command, ...rest] = process.argv.slice(2);
const options = {};
for (let i = 0; i < rest.length; i += 2) {
  const [flag, value] = [rest[i], rest[i + 1]];
  if (value === undefined) usage(`missing value after ${flag}`);
  if (flag === "--data-dir") options.dataDir = value;
  else if (flag === "--user-dir") options.userDir = value;
  else if (flag === "--source") options.sources = [...(options.sources ?? []), value];
  else usage(`unknown option ${flag}`);
}

function usage(problem) {
  console.error(
    `${problem}\nusage: data.mjs fetch|verify [--data-dir DIR] [--user-dir DIR] [--source official|mirror]`,
  );
  process.exit(2);
}

try {
  if (command === "fetch") {
    const report = await fetchCifar10(options);
    const tried = report.attempts.map(
      (a) => `${a.source} ${a.ok ? "ok" : "failed"} in ${a.seconds.toFixed(1)} s`,
    );
    console.log(
      `CIFAR-10 verified in ${report.dir} (source: ${report.source}; ${report.seconds.toFixed(1)} s${tried.length ? `; ${tried.join(", ")}` : ""})`,
    );
  } else if (command === "verify") {
    const report = await verifyCifar10({ ...options, onProgress: silentProgress });
    if (report.problem) console.log(`BAD  ${report.problem}`);
    else
      for (const file of report.files)
        console.log(`${file.ok ? "ok  " : "BAD "} ${file.ok ? file.path : file.problem}`);
    process.exitCode = report.ok ? 0 : 1;
  } else usage(command ? `unknown command ${command}` : "missing command");
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
