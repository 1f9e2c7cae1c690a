#!/usr/bin/env bash
# Debian packages the test suite uses as references or services: R's survival package (the Cox/log-rank
# agreement tests), SLURM + munge (the single-node cluster of the SLURM profile test) and Chromium (the
# report rendering test). Tests that need one of them skip with a reason when it is absent; CI installs them.
set -euo pipefail
PACKAGES=(r-base-core r-cran-survival slurm-wlm munge chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present (${PACKAGES[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing (${missing[*]}) and not root: the tests that need them will skip" >&2
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
