# Shared set-up for scripts/test and scripts/demo: Debian packages (as root) and the venv.

step() { printf '\n==> %s\n' "$*"; }

# Install the named Debian packages that are missing; without root, say what is missing.
install_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages (run as root to install them): ${missing[*]}" >&2
    return 0
  fi
  step "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The package names of Debian package lists (scripts/debian-packages*.txt), one a line.
package_list() {
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]//g' "$@"
}

# A venv in ./.venv with the project (and the given extras) installed.
make_venv() {
  local target=$1 python
  python=$(command -v python3)
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is needed; found $("$python" --version)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import ensurepip' 2>/dev/null; then
    if ! "$python" -m venv .venv 2>/dev/null; then
      install_debian_packages python3-venv
      rm -rf .venv
      "$python" -m venv .venv
    fi
  fi
  step "installing the project into .venv: $target"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$target"
}

# A bare root (debootstrap minbase) has no /etc/hosts, so "localhost" does not resolve; every
# installed Debian system has it, and the CLI tests check against an NTP server named localhost.
ensure_localhost_resolves() {
  getent hosts localhost >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "'localhost' does not resolve; add it to /etc/hosts (as root)" >&2
    return 0
  fi
  step "adding localhost to /etc/hosts"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >>/etc/hosts
}
