#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, npm packages), builds the programs,
# then runs type checks, lint and every project's tests. Prints one closing line
# "<passed> passed, <failed> failed" summed over all jest runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# libjemalloc2: bin/member runs on jemalloc when present (see bin/member), so tests run the
# member as it is measured.
debian_packages=(etcd-server etcd-client nats-server libjemalloc2)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# `npm install` rather than `npm ci`: with npm 11 here the lock file leaves out other
# platforms' optional binaries (swc, buf), which `npm ci` then rejects as out of sync.
# With a lock file present, `npm install` installs exactly the locked versions.
npm install --no-fund --no-audit --loglevel=error
node tools/build/build.mjs

summary=$(mktemp)
export KEEL_TEST_SUMMARY=$summary
export NX_DAEMON=false
status=0
npx nx run-many -t typecheck lint test --parallel=2 --outputStyle=stream --skip-nx-cache || status=$?

awk '{ passed += $1; failed += $2 } END { printf "%d passed, %d failed\n", passed, failed }' "$summary"
rm -f "$summary"
exit $status
