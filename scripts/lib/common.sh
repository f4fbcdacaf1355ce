# Helpers the benchmark scripts share (sourced, not run).

# wrk, installed with apt-get when missing; exits 3 when it cannot be.
need_wrk() {
  if ! command -v wrk >/dev/null; then
    { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 || true
  fi
  command -v wrk >/dev/null || { echo "wrk: not installed (apt-get install wrk failed)"; exit 3; }
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
