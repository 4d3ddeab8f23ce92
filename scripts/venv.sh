# Sourced by scripts/test and scripts/demo: make sure .venv exists with avp-py and its test
# tools installed, from PyPI, on a machine that has only python3, pip and git.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.installed-$(cat "$root/pyproject.toml" | python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -e "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]"
  rm -f "$venv"/.installed-* && touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
