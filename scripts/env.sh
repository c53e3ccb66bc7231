# Sourced by scripts/check and scripts/kind: the locked environment in venv/ (the virtualenv
# Pulumi.yaml names), from uv.lock, every package pinned with its hashes; a stale lock fails.
# The program's runtime only (what `pulumi install` makes), plus the dependency groups a caller
# names in ENV_GROUPS (scripts/check: the test and lint tools).
uv=$(command -v uv || true)
if [ -z "$uv" ]; then
  # No uv on PATH: the pinned uv from PyPI, checked against its hashes, in a virtualenv of its own.
  [ -x .tools/bin/uv ] || { "${PYTHON:-python3}" -m venv .tools && .tools/bin/pip install --quiet --require-hashes -r scripts/uv-requirements.txt; }
  uv=.tools/bin/uv
fi
groups=()
for group in ${ENV_GROUPS:-}; do groups+=(--group "$group"); done
UV_PROJECT_ENVIRONMENT=venv "$uv" sync --locked --quiet "${groups[@]}"
