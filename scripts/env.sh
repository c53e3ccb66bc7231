# Sourced by scripts/check and scripts/kind: the locked environment in venv/ (the virtualenv
# Pulumi.yaml names), from uv.lock, every package pinned with its hashes; a stale lock fails.
# The program's runtime only (what `pulumi install` makes), plus the dependency groups a caller
# names in ENV_GROUPS (scripts/check: the test and lint tools). ENV_KEEP=1 leaves packages the
# lock's runtime does not name (scripts/kind keeps a developer's test tools).
#
# uv: the one on PATH, else $UV (what `uv run` sets for its children), else the pinned uv from
# PyPI, checked against its hashes, in a virtualenv of its own under .tools/.
uv=${UV:-$(command -v uv || true)}
if [ -z "$uv" ]; then
  [ -x .tools/bin/uv ] || { "${PYTHON:-python3}" -m venv .tools && .tools/bin/pip install --quiet --require-hashes -r scripts/uv-requirements.txt; }
  uv=$PWD/.tools/bin/uv
fi
# Every `pulumi` command on this project runs uv (Pulumi.yaml, `toolchain: uv`; the CLI stops with
# "Could not find `uv` executable" otherwise): the scripts' child processes find it on PATH, in a
# directory that holds nothing else (.tools/bin would also shadow python3 and pip).
if ! command -v uv > /dev/null; then
  mkdir -p .tools/path
  ln -sf "$(realpath "$uv")" .tools/path/uv
  export PATH="$PWD/.tools/path:$PATH"
fi
sync=(--locked --quiet)
for group in ${ENV_GROUPS:-}; do sync+=(--group "$group"); done
[ -z "${ENV_KEEP:-}" ] || sync+=(--inexact)
UV_PROJECT_ENVIRONMENT=venv "$uv" sync "${sync[@]}"
