# Helpers the benchmark scripts share (sourced, not run).

# Debian tools (wrk, valgrind), installed with apt-get when missing; exits 3 when one cannot be.
need() { # tool...
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      { apt-get update -qq && apt-get install -y -qq "$tool"; } >/dev/null 2>&1 || true
    fi
    command -v "$tool" >/dev/null || { echo "$tool: not installed (apt-get install $tool failed)"; exit 3; }
  done
}

# Waits up to a minute for a server to listen on 127.0.0.1:PORT.
wait_port() { # port
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The wrk script that sends setPresence (USERS, PREFIX and BEARER from the environment).
SETPRESENCE_LUA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setpresence.lua"
