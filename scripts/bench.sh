#!/usr/bin/env bash
# Suite and server benchmarks, loopback only (127.0.0.1).
#
#   scripts/bench.sh [--repeat N] [--no-build] [--skip-load]
#
# 1. Builds once: `cargo build --release --locked`, then the `harness = false` benches
#    (benches/suite.rs, benches/server_load.rs) with the same profile.
# 2. Full conformance run of every case, N times each (default 3):
#    (a) embedded: `conformance run` (the CLI starts the reference server in its own process);
#    (b) external: `conformance serve --bind 127.0.0.1` as a separate process, and
#        `conformance run --target … --auth digest:… --readonly-auth digest:… --group-id …
#        --cm-group-id … --other-group-id …` against it;
#    each under `/usr/bin/time -v` (wall clock, peak RSS); requests from the CLI's last line. The
#    server process's peak RSS is its VmHWM, read from /proc before it is stopped.
#    Then once more per mode through benches/suite.rs, which times the phases in-process (spec +
#    validators, case generation, server start, the run alone) and the run's requests/s.
# 3. Server load: benches/server_load.rs (10,000 requests, 32 clients, digest, TCP_NODELAY).
#
# Writes target/bench/<timestamp>/ (raw outputs) and prints a summary (also summary.md there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPEAT=3
BUILD=1
LOAD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) REPEAT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --skip-load) LOAD=0; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

if [[ ! -x /usr/bin/time ]]; then
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } \
    || { echo "bench.sh: /usr/bin/time is needed (apt-get install -y time)" >&2; exit 2; }
fi

if [[ $BUILD -eq 1 ]]; then
  cargo build --release --locked
fi
declare -A EXE
while read -r name path; do EXE[$name]="$path"; done < <(
  cargo bench --locked --no-run --bench suite --bench server_load --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["bench"]:
        print(m["target"]["name"], m["executable"])')
for b in suite server_load; do [[ -x "${EXE[$b]:-}" ]] || { echo "bench.sh: bench $b did not build" >&2; exit 2; }; done
CLI="$ROOT/target/release/conformance"
"$CLI" serve --help 2>/dev/null | grep -q -- --port || { echo "bench.sh: target/release/conformance has no serve" >&2; exit 2; }

OUT="$ROOT/target/bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "nproc: $(nproc)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  free -h
} >"$OUT/machine.txt"

# /usr/bin/time -v fields → "wall_s rss_kib"
time_fields() {
  python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1], errors="replace").read()
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
wall = (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) if m else float("nan")
r = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
req = re.search(r"\((\d+) requests in", t)
cases = re.search(r"(\d+) of (\d+) cases passed(?:, (\d+) skipped)?", t)
print(f"{wall:.2f} {r.group(1) if r else 'nan'} {req.group(1) if req else 'nan'} "
      f"{cases.group(1) if cases else '?'}/{cases.group(2) if cases else '?'} {cases.group(3) or 0 if cases else '?'}")
EOF
}

SUMMARY="$OUT/summary.md"
{
  echo "| mode | run | command | wall (s) | peak RSS runner (MiB) | requests | passed/cases | skipped |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$SUMMARY"

# ---- (a) embedded
for i in $(seq "$REPEAT"); do
  /usr/bin/time -v "$CLI" run --report-dir "$OUT/embedded-$i" >"$OUT/embedded-$i.out" 2>"$OUT/embedded-$i.err" || true
  read -r wall rss req pc sk < <(time_fields "$OUT/embedded-$i.err")
  echo "| embedded | $i | \`conformance run\` | $wall | $(( rss / 1024 )) | $req | $pc | $sk |" >>"$SUMMARY"
done
"${EXE[suite]}" --slowest 10 >"$OUT/suite-embedded.json" 2>"$OUT/suite-embedded.err" || true

# ---- (b) external: the reference server as its own process
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$CLI" serve --bind 127.0.0.1 --port "$port" >"$OUT/serve.json" 2>"$OUT/serve.err" &
SPID=$!
trap 'kill -TERM $SPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q base_url "$OUT/serve.json" 2>/dev/null && break; sleep 0.1; done
I="$OUT/serve.json"
BASE="$(jq -r .base_url "$I")"
[[ "$BASE" == http://127.0.0.1:* ]] || { echo "bench.sh: not loopback: $BASE" >&2; exit 2; }
RUN_EXT=("$CLI" run --target "$BASE"
  --auth "digest:$(jq -r .owner.public "$I"):$(jq -r .owner.private "$I")"
  --readonly-auth "digest:$(jq -r .read_only.public "$I"):$(jq -r .read_only.private "$I")"
  --group-id "$(jq -r .atlas_group_id "$I")" --cm-group-id "$(jq -r .cm_group_id "$I")"
  --other-group-id "$(jq -r .other_group_id "$I")")
for i in $(seq "$REPEAT"); do
  /usr/bin/time -v "${RUN_EXT[@]}" --report-dir "$OUT/external-$i" >"$OUT/external-$i.out" 2>"$OUT/external-$i.err" || true
  read -r wall rss req pc sk < <(time_fields "$OUT/external-$i.err")
  echo "| external | $i | \`conformance run --target …\` | $wall | $(( rss / 1024 )) | $req | $pc | $sk |" >>"$SUMMARY"
done
"${EXE[suite]}" --external "$I" --slowest 10 >"$OUT/suite-external.json" 2>"$OUT/suite-external.err" || true
SERVER_HWM="$(awk '/VmHWM/ {print $2}' "/proc/$SPID/status")"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null || true
trap - EXIT

{
  echo
  echo "Reference server process (external mode), peak RSS after $REPEAT + 1 full runs: $(( SERVER_HWM / 1024 )) MiB (VmHWM ${SERVER_HWM} kB)"
  echo
  echo "In-process (benches/suite.rs; the run alone, no report writing):"
  for m in embedded external; do
    python3 - "$OUT/suite-$m.json" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r = d["runs"][-1]
print(f"- {d['mode']}: run {r['wall_seconds']:.3f} s, {r['requests']} requests, {r['requests_per_second']:.0f} requests/s, "
      f"{r['passed']} passed / {r['failed']} failed / {r['skipped']} skipped; spec+validators {d['harness_build_seconds']:.3f} s, "
      f"case generation {d['generate_seconds']:.3f} s, server start {d['server_start_seconds']:.3f} s; "
      f"peak RSS {d['vm_hwm_kib'] / 1024:.0f} MiB; process {d['process_seconds']:.3f} s")
EOF
  done
} >>"$SUMMARY"

if [[ $LOAD -eq 1 ]]; then
  {
    echo
    echo "Server load (benches/server_load.rs, defaults: 10,000 requests, 32 clients, $REPEAT runs):"
    echo
    echo "| run | HTTP requests | seconds | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | state problems | peak RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
  } >>"$SUMMARY"
  for i in $(seq "$REPEAT"); do
    "${EXE[server_load]}" >"$OUT/server_load-$i.json" 2>"$OUT/server_load-$i.err" || true
    jq -r --arg i "$i" '"| \($i) | \(.http_requests) | \(.seconds*1000|round/1000) | \(.requests_per_second|round) | \(.latency_ms.p50) | \(.latency_ms.p90) | \(.latency_ms.p99) | \(.latency_ms.max) | \(.errors) | \(.state_problems) | \(.vm_hwm_kib/1024|round) |"' \
      "$OUT/server_load-$i.json" >>"$SUMMARY"
  done
  { echo; echo "Last run's own summary:"; sed 's/^/    /' "$OUT/server_load-$REPEAT.err"; } >>"$SUMMARY"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

cat "$OUT/machine.txt"
echo
cat "$SUMMARY"
echo
echo "raw outputs: $OUT"
