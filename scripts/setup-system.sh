#!/usr/bin/env bash
# The system packages the test suite needs, in one list: installed with apt-get when missing
# and run as root; otherwise this stops at once and prints the one command to run.
# Used by `npm test` (pretest) and by .ci/run.
set -euo pipefail

# package:command-that-proves-it-is-installed
PACKAGES=(
  openssh-server:/usr/sbin/sshd
  openssh-client:ssh-keygen
  tmux:tmux
  graphviz:dot
  chromium:chromium
  redis-server:redis-server
)

missing=()
for entry in "${PACKAGES[@]}"; do
  package=${entry%%:*}
  probe=${entry#*:}
  command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$EUID" -ne 0 ]; then
  echo "setup-system: the tests need ${missing[*]}; install with:" >&2
  echo "  sudo apt-get update && sudo $command" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: the tests need ${missing[*]} and this system has no apt-get" >&2
  exit 1
fi
echo "setup-system: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive $command -qq >/dev/null
