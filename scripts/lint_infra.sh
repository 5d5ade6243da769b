#!/usr/bin/env bash
# Lints the infrastructure: terraform fmt, terraform validate of every root, checkov.
# (The workflows and the shell scripts are scripts/lint_ci.sh's.) checkov is installed on first
# use into the git-ignored build/tools/checkov-venv (its pins clash with the project's).
# Offline init uses the provider mirror exactly as scripts/tf.sh does.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

CHECKOV_VERSION="3.3.30"
CHECKOV_VENV="build/tools/checkov-venv"
PYTHON_BOOT="${PYTHON_BOOT:-python3}"
failed=()

# A TF_CLI_CONFIG_FILE that points nowhere only makes terraform warn (tf.sh sets its own).
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
  unset TF_CLI_CONFIG_FILE
fi

step() {
  printf '\n==> %s\n' "$*"
}

step "terraform fmt -check -recursive infra"
terraform fmt -check -recursive -diff infra || failed+=("terraform fmt")

for root in infra/envs/*/; do
  env_name="$(basename "$root")"
  step "terraform validate $env_name"
  if scripts/tf.sh init "$env_name" -backend=false -no-color >/dev/null; then
    scripts/tf.sh validate "$env_name" -no-color || failed+=("validate $env_name")
  else
    failed+=("init $env_name")
  fi
done

step "checkov $CHECKOV_VERSION (infra/)"
if [[ ! -x "$CHECKOV_VENV/bin/checkov" ]] \
  || ! "$CHECKOV_VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('checkov') != '$CHECKOV_VERSION')"; then
  "$PYTHON_BOOT" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet "checkov==$CHECKOV_VERSION"
fi
if BC_SKIP_MAPPING=TRUE "$CHECKOV_VENV/bin/checkov" --config-file .checkov.yaml \
  --output cli --output json --output-file-path console,build/tools/checkov-results.json; then
  # checkov passes a file it cannot parse without checking it: count that as a failure.
  "$CHECKOV_VENV/bin/python" - <<'PY' || failed+=("checkov parsing")
import json, sys
report = json.load(open("build/tools/checkov-results.json"))
errors = report["summary"]["parsing_errors"] if isinstance(report, dict) else 1
if errors:
    sys.exit(f"checkov could not parse {errors} file(s): run checkov without --quiet to see which")
PY
  # Each inline skip must still suppress a failing check: scan a copy without them.
  "$CHECKOV_VENV/bin/python" scripts/checkov_skips.py --check-needed "$CHECKOV_VENV/bin/checkov" \
    || failed+=("checkov skips")
else
  failed+=("checkov")
fi

if ((${#failed[@]})); then
  printf '\nlint_infra: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nlint_infra: terraform fmt, validate and checkov passed\n'
