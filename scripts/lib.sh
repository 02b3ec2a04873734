# Shared by scripts/run-demo, scripts/run-tests and tests/bench/*: installing what is missing,
# building, and running a private PostgreSQL cluster. Source it; do not run it.
# Everything here is idempotent: running it twice reuses what the first run set up.

AG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AG_PGBIN=${AG_PGBIN:-/usr/lib/postgresql/15/bin}

ag_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
ag_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ag_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages agentgate needs to build, test and run, when any is missing.
AG_PACKAGES="build-essential cmake pkg-config clang-format libmicrohttpd-dev libjansson-dev
  libpq-dev check libsubunit-dev libcurl4-openssl-dev libsodium-dev libinih-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  libpcre2-dev postgresql-15 postgresql-client-15 openssl curl ca-certificates"
# Hyperscan (the flag engine's one-pass matcher) is built for x86-64 only; elsewhere the flag
# engine uses PCRE2 alone.
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && AG_PACKAGES="$AG_PACKAGES libhyperscan-dev"
# Extra packages of single stages, passed to ag_install_packages by the scripts that need them:
# the fuzz targets (tests/fuzz/run.sh: clang and its libFuzzer + sanitizer runtimes) and the
# operations tests (tests/ops: systemd-analyze to check the unit file).
AG_FUZZ_PACKAGES="clang libclang-rt-14-dev"
AG_OPS_PACKAGES="systemd"
ag_install_packages() {
  local missing="" p
  for p in $AG_PACKAGES "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    ag_say "installing:$missing"
    ag_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    ag_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  # Debian's postgresql package starts a system cluster on 5432; ours never uses it.
  command -v node >/dev/null 2>&1 || ag_install_node
}

ag_install_node() {
  ag_say "installing nodejs and npm"
  ag_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
}

# ag_build DIR [cmake args...]: configures and builds into DIR.
ag_build() {
  local dir=$1; shift
  cmake -S "$AG_ROOT" -B "$dir" "$@" >/dev/null || ag_die "cmake configure failed"
  cmake --build "$dir" -j"$(nproc)" >/dev/null 2>"$dir.build.log" || { cat "$dir.build.log" >&2; ag_die "build failed"; }
}

# ag_pg_start DATADIR PORT [extra postgres -c settings...]: initialises (once) and starts a
# private cluster whose unix socket is in DATADIR and which listens on no TCP address.
ag_pg_start() {
  local data=$1 port=$2; shift 2
  local opts="-k $data -p $port -c listen_addresses=''" s
  for s in "$@"; do opts="$opts -c $s"; done
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    chown postgres:postgres "$data"
    chmod 700 "$data"
    runuser -u postgres -- "$AG_PGBIN/initdb" -D "$data" -A trust -U postgres -E UTF8 \
      --locale=C.UTF-8 >/dev/null || ag_die "initdb failed"
  fi
  if runuser -u postgres -- "$AG_PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  runuser -u postgres -- "$AG_PGBIN/pg_ctl" -D "$data" -o "$opts" -l "$data/server.log" -w \
    -t 60 start >/dev/null || { tail -20 "$data/server.log" >&2; ag_die "PostgreSQL did not start"; }
}

ag_pg_stop() {
  local data=$1
  [ -s "$data/PG_VERSION" ] || return 0
  runuser -u postgres -- "$AG_PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# ag_psql DATADIR PORT [psql args...]
ag_psql() {
  local data=$1 port=$2; shift 2
  runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" -U postgres "$@"
}
