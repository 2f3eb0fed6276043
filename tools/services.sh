# Sourced by the scripts that run services (run.sh, test.sh, bench/run.sh): each service
# in its own process group, so that stopping it stops its children too; ports checked
# free before and open after; everything stopped on the way out.

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_free_ports() {
  for port in "$@"; do
    if port_open "$port"; then
      echo "error: port $port is in use (is 'make run' still running?). Stop what runs there and try again." >&2
      exit 1
    fi
  done
}

service_pids=()
# start_service LOG COMMAND...: LOG is a file, or - for this terminal.
start_service() {
  local log=$1
  shift
  if [ "$log" = - ]; then setsid "$@" & else setsid "$@" >"$log" 2>&1 & fi
  service_pids+=($!)
}

# wait_for_ports PORT...: each within 10 s, or WAIT_SECONDS.
wait_for_ports() {
  for port in "$@"; do
    for _ in $(seq "$(( ${WAIT_SECONDS:-10} * 10 ))"); do port_open "$port" && break; sleep 0.1; done
    port_open "$port" || { echo "error: nothing listens on port $port" >&2; exit 1; }
  done
}

stop_services() {
  for pid in "${service_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
