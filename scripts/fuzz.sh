#!/usr/bin/env bash
# Fuzz the reference server with schemathesis against spec/integrations.openapi.yaml.
#
#   scripts/fuzz.sh [--max-examples N] [--seed S] [--pass NAME]... [--fault NAME]... [--no-build]
#
# Everything stays on loopback: each pass starts the reference server (release build) on a free
# port of 127.0.0.1, runs schemathesis against it, and stops it. Passes (default: all four):
#   spec           all 15 operations, every parameter generated from the spec, groupId included
#                  (so nearly every request is 404 GROUP_NOT_FOUND / INVALID_GROUP_ID: this pass
#                  exercises credentials, routing, Accept, query and error shapes)
#   cloud-manager  the cloud-manager operations, groupId fixed to the server's Cloud Manager project
#   atlas-v1       the atlas-v1 operations, groupId fixed to the server's Atlas project
#   atlas-v2       the atlas-v2 operations, groupId fixed to the server's Atlas project
# The fixed-groupId passes each get a fresh server: atlas-v1 and atlas-v2 share the Atlas
# project (contract section 8), and an integration written through one family can break the
# other family's response schema (see docs/measurements.md, "cross-family finding"), which is a
# contract/spec question rather than something a fuzzer of one family should trip over.
#
# Checks: `--checks all` (not_a_server_error, status_code_conformance, content_type_conformance,
# response_headers_conformance, response_schema_conformance, negative_data_rejection,
# positive_data_acceptance, missing_required_header, unsupported_method,
# allow_header_conformance, use_after_free, ensure_resource_availability, ignored_auth,
# object_level_authorization) plus the custom envelope_conformance check of
# scripts/fuzz_hooks.py. The hooks there set the atlas-v2 `Accept` header, unwrap (after
# checking) `envelope=true` bodies, and drop exactly four kinds of failure that the contract
# requires and OpenAPI 3.0 cannot express (R1-R4, counted in the summary).
#
# Authentication: schemathesis 4 has no HTTP digest, so the run uses the spec's other scheme,
# OAuth 2.0 client credentials: a bearer token fetched from POST /api/oauth/token with the
# server's OAuth client, sent as `-H "Authorization: Bearer ..."`.
#
# Output: target/fuzz/<pass>/ (schemathesis output, HAR and NDJSON reports, the dropped
# failures) and a summary table; exit status 0 only if every pass passed with no 5xx.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MAX_EXAMPLES=100
SEED=20261124
PASSES=()
FAULTS=()
BUILD=1
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --pass) PASSES+=("$2"); shift 2 ;;
    --fault) FAULTS+=("$2"); shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ ${#PASSES[@]} -gt 0 ]] || PASSES=(spec cloud-manager atlas-v1 atlas-v2)

# Loopback only: no proxy may carry these requests anywhere else.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

OUT="$ROOT/target/fuzz"
mkdir -p "$OUT"

# ---- the server binary: `conformance serve`, bound to 127.0.0.1.
if [[ $BUILD -eq 1 ]]; then
  cargo build --release --locked
fi
target/release/conformance serve --help 2>/dev/null | grep -q -- '--port' \
  || { echo "fuzz.sh: target/release/conformance has no serve command (cargo build --release --locked)" >&2; exit 2; }
SERVER=(target/release/conformance serve --bind 127.0.0.1)
echo "fuzz.sh: server command: ${SERVER[*]}"

# ---- schemathesis in its own venv.
VENV="$ROOT/target/fuzz-venv"
if [[ ! -x "$VENV/bin/st" ]] || [[ "$("$VENV/bin/st" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
ST="$VENV/bin/st"
echo "fuzz.sh: $("$ST" --version)"

SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

start_server() { # $1: directory for the server's output
  local dir="$1" port fault_args=()
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  for f in "${FAULTS[@]}"; do fault_args+=(--fault "$f"); done
  "${SERVER[@]}" --port "$port" "${fault_args[@]}" >"$dir/server.json" 2>"$dir/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '"base_url"' "$dir/server.json" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '"base_url"' "$dir/server.json" || { echo "fuzz.sh: the server did not start" >&2; cat "$dir/server.err" >&2; exit 2; }
  BASE_URL="$(jq -r .base_url "$dir/server.json" | head -1)"
  case "$BASE_URL" in
    http://127.0.0.1:*) ;;
    *) echo "fuzz.sh: refusing a non-loopback base URL $BASE_URL" >&2; exit 2 ;;
  esac
}

SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
overall=0
for pass in "${PASSES[@]}"; do
  dir="$OUT/$pass"
  rm -rf "$dir"; mkdir -p "$dir"
  start_server "$dir"
  info="$dir/server.json"
  client_id="$(jq -r .oauth.client_id "$info")"
  client_secret="$(jq -r .oauth.client_secret "$info")"
  token="$(curl -sS --noproxy '*' -u "$client_id:$client_secret" -d grant_type=client_credentials \
    "$BASE_URL/api/oauth/token" | jq -r .access_token)"
  [[ -n "$token" && "$token" != null ]] || { echo "fuzz.sh: no token" >&2; exit 2; }
  export ATLAS_GROUP_ID CM_GROUP_ID
  ATLAS_GROUP_ID="$(jq -r .atlas_group_id "$info")"
  CM_GROUP_ID="$(jq -r .cm_group_id "$info")"

  config="$dir/schemathesis.toml"
  filter=()
  case "$pass" in
    spec) : >"$config" ;;
    cloud-manager)
      printf '[[operations]]\ninclude-tag = "cloud-manager"\nparameters = { "path.groupId" = "${CM_GROUP_ID}" }\n' >"$config"
      filter=(--include-tag cloud-manager) ;;
    atlas-v1|atlas-v2)
      printf '[[operations]]\ninclude-tag = "%s"\nparameters = { "path.groupId" = "${ATLAS_GROUP_ID}" }\n' "$pass" >"$config"
      filter=(--include-tag "$pass") ;;
    *) echo "fuzz.sh: unknown pass $pass" >&2; exit 2 ;;
  esac

  cmd=("$ST" --config-file "$config" run spec/integrations.openapi.yaml
    --url "$BASE_URL" -H "Authorization: Bearer $token"
    "${filter[@]}" --checks all --max-examples "$MAX_EXAMPLES" --seed "$SEED"
    --workers 1 --no-color --report har,ndjson --report-dir "$dir")
  echo "fuzz.sh: [$pass] ${cmd[*]/$token/<token>}" | tee "$dir/command.txt"
  set +e
  PYTHONPATH="$ROOT/scripts" SCHEMATHESIS_HOOKS=fuzz_hooks FUZZ_SEED="$SEED" \
    FUZZ_SPEC="$ROOT/spec/integrations.openapi.yaml" FUZZ_DROPPED="$dir/dropped.jsonl" \
    "${cmd[@]}" >"$dir/schemathesis.txt" 2>&1
  rc=$?
  set -e
  stop_server
  [[ $rc -eq 0 ]] || overall=1

  python3 - "$pass" "$dir" "$rc" >>"$SUMMARY" <<'EOF'
import collections, glob, json, sys
name, d, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
entries = []
for f in glob.glob(f"{d}/har-*.json"):
    entries += json.load(open(f))["log"]["entries"]
status = collections.Counter(e["response"]["status"] for e in entries)
v2 = [e for e in entries if "/api/atlas/v2/" in e["request"]["url"]]
accept = collections.Counter(
    next((h["value"] for h in e["request"]["headers"] if h["name"].lower() == "accept"), "-") for e in v2
)
dropped = collections.Counter()
try:
    for line in open(f"{d}/dropped.jsonl"):
        dropped[json.loads(line)["rule"].split(" ")[0]] += 1
except FileNotFoundError:
    pass
text = open(f"{d}/schemathesis.txt", errors="replace").read()
tail = [l for l in text.splitlines() if "generated," in l or l.startswith("=====") and "in " in l]
fivexx = sum(n for s, n in status.items() if s >= 500)
print(f"[{name}] exit {rc}; {len(entries)} requests; 5xx {fivexx}; statuses {dict(sorted(status.items()))}")
print(f"[{name}]   atlas-v2 Accept headers sent: {dict(accept)}")
print(f"[{name}]   failures dropped by rule (R1-R4): {dict(sorted(dropped.items())) or 'none'}")
for l in tail[-2:]:
    print(f"[{name}]   schemathesis: {l.strip('= ').strip()}")
EOF
  grep -q "5xx 0;" <(grep "^\[$pass\] exit" "$SUMMARY") || overall=1
done

echo
cat "$SUMMARY"
exit $overall
