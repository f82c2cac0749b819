#!/usr/bin/env bash
# Measures what issue 20 asks, on a private redis-server and fake WeChat:
#   idle APPS PROCS SECONDS   idle Redis ops/s with APPS configured apps (token.redis_key,
#                             no secrets) on PROCS worker processes, after a 20 s settle
#   codes N                   1 app x N codes (fake WeChat without rate limit or latency,
#                             local storage, concurrency 100): Redis commands and worker
#                             CPU per stored code, wall time
# Usage: benchmarks/lanes-measure.sh BINARY idle 10000 1 30 | codes 6000
set -euo pipefail
bin=$(readlink -f "$1"); mode=$2; shift 2
dir=$(mktemp -d /tmp/wxacode-lanes-XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
pids+=($!)
rc() { redis-cli -p "$port" "$@"; }
until rc ping >/dev/null 2>&1; do sleep 0.1; done
calls() { rc info commandstats | awk -F'[=,:]' '/^cmdstat_/ {s+=$3} END {print s}'; }
fport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export WXACODE_REDIS_URL=redis://127.0.0.1:$port/0 WXACODE_WECHAT_BASE_URL=http://127.0.0.1:$fport
export WXACODE_LOG_LEVEL=${LOG_LEVEL:-info} WXACODE_LOG_FORMAT=text WXACODE_STORAGE_URL=$dir/codes
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
case $mode in
idle)
  apps=$1 procs=$2 secs=$3
  python3 - "$apps" >"$dir/apps.yaml" <<'PY'
import sys
print("apps:")
for i in range(int(sys.argv[1])):
    print(f"  - appid: wx{i:016d}\n    token: {{redis_key: \"platform:token:wx{i:016d}\"}}")
PY
  "$bin" fake-wechat --listen 127.0.0.1:$fport --rate-limit -1 >"$dir/fake.log" 2>&1 & pids+=($!)
  for _ in $(seq "$procs"); do
    "$bin" worker --apps-file "$dir/apps.yaml" --preflight=false --check-quota=false >>"$dir/worker.log" 2>&1 & pids+=($!)
  done
  sleep 20
  a=$(calls); t0=$(date +%s.%N); sleep "$secs"; b=$(calls); t1=$(date +%s.%N)
  python3 -c "print(f'idle: {$apps} apps, {$procs} worker processes: {($b-$a)/($t1-$t0):.1f} Redis ops/s over {$t1-$t0:.0f} s')"
  grep -c "worker started" "$dir/worker.log" | sed "s/^/worker processes started: /"; grep -v "worker started" "$dir/worker.log" | head -3
  ;;
codes)
  n=$1
  printf 'bench-secret' >"$dir/secret"; chmod 600 "$dir/secret"
  "$bin" fake-wechat --listen 127.0.0.1:$fport --rate-limit -1 --app wxbench00000000001:bench-secret >"$dir/fake.log" 2>&1 & pids+=($!)
  sleep 1
  export WXACODE_APPID=wxbench00000000001 WXACODE_SECRET_FILE=$dir/secret
  seq -f 'b%08g' 1 "$n" >"$dir/scenes.txt"
  "$bin" worker --concurrency 100 --check-quota=false ${WORKER_FLAGS:-} >"$dir/worker.log" 2>&1 & wpid=$!; pids+=($wpid)
  sleep 3
  rc config resetstat >/dev/null
  c0=$(cpu $wpid); t0=$(date +%s.%N)
  "$bin" enqueue --app wxbench00000000001 --page pages/index/index --quiet "$dir/scenes.txt" >/dev/null
  until [ "$(rc hget wxacode:ledger:{wxbench00000000001}:n stored 2>/dev/null || echo 0)" -ge "$n" ] 2>/dev/null; do sleep 0.2; done
  t1=$(date +%s.%N); c1=$(cpu $wpid); b=$(calls)
  tck=$(getconf CLK_TCK)
  python3 -c "print(f'codes: {$n} stored in {$t1-$t0:.1f} s: {$b/$n:.1f} Redis commands per code (enqueue included), worker CPU {($c1-$c0)/$tck/$n*1000:.2f} ms per code')"
  rc info commandstats | awk -F'[=,:]' -v n="$n" '/^cmdstat_/ {printf "  %-22s %6.2f per code\n", $1, $3/n}' | sort -k2 -n -r | head -12
  ;;
esac
