#!/usr/bin/env bash
# Reproduces the cross-family finding of scripts/fuzz.sh (docs/measurements.md): atlas-v1 and
# atlas-v2 share the Atlas project (contract section 8), and an integration written through one
# family is returned by the other in a shape that family's response schema refuses.
#
#   scripts/cross_family_probe.sh      (needs target/release/conformance with `serve`, curl, jq)
#
# Starts `conformance serve` on a free loopback port, writes three integrations, reads each one
# back through the other family, prints the exchanges and whether the spec's response schema
# holds (checked here with jq for the one rule in question). Exit 0 when every probe conforms.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
tmp="$(mktemp -d)"
target/release/conformance serve --bind 127.0.0.1 --port "$port" >"$tmp/info.json" 2>"$tmp/err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q base_url "$tmp/info.json" 2>/dev/null && break; sleep 0.1; done
base="$(jq -r .base_url "$tmp/info.json")"
[[ "$base" == http://127.0.0.1:* ]] || { echo "not loopback: $base" >&2; exit 2; }
group="$(jq -r .atlas_group_id "$tmp/info.json")"
token="$(curl -sS --noproxy '*' -u "$(jq -r .oauth.client_id "$tmp/info.json"):$(jq -r .oauth.client_secret "$tmp/info.json")" \
  -d grant_type=client_credentials "$base/api/oauth/token" | jq -r .access_token)"
V1="$base/api/atlas/v1.0/groups/$group/integrations"
V2="$base/api/atlas/v2/groups/$group/integrations"
MT=application/vnd.atlas.2023-01-01+json
req() { # method url accept content-type [body]
  local args=(-sS --noproxy '*' -X "$1" -H "Authorization: Bearer $token" -H "Accept: $3" -w '\n%{http_code}')
  [[ -n "${5:-}" ]] && args+=(-H "Content-Type: $4" -d "$5")
  curl "${args[@]}" "$2"
}
fail=0
probe() { # title, jq test on the read-back body, description of the schema rule
  local title="$1" test="$2" rule="$3" body="$4"
  if jq -e "$test" >/dev/null <<<"$body"; then
    echo "  conforms: $rule"
  else
    echo "  BREAKS THE SPEC: $rule"
    fail=1
  fi
}

echo "1. NEW_RELIC written through atlas-v1 (no pattern there), read through atlas-v2 (pattern ^([0-9a-f]){40}\$)"
echo "   POST $V1/NEW_RELIC -> $(req POST "$V1/NEW_RELIC" application/json application/json \
  '{"type":"NEW_RELIC","licenseKey":"my-license","accountId":"12345","writeToken":"w","readToken":"r"}' | tail -1)"
out="$(req GET "$V2/NEW_RELIC" "$MT" "")"
echo "   GET  $V2/NEW_RELIC -> $(tail -1 <<<"$out"): $(head -1 <<<"$out")"
probe 1 '(.accountId|test("^([0-9a-f]){40}$")) and (.licenseKey|test("^([0-9a-f]){40}$"))' \
  "V2NewRelic: accountId and licenseKey match ^([0-9a-f]){40}\$" "$(head -1 <<<"$out")"

echo "2. SLACK written through atlas-v2 without teamName (optional there), read through atlas-v1 (teamName required)"
echo "   POST $V2/SLACK -> $(req POST "$V2/SLACK" "$MT" "$MT" '{"type":"SLACK","apiToken":"xoxb-123456789","channelName":"alerts"}' | tail -1)"
out="$(req GET "$V1/SLACK" application/json "")"
echo "   GET  $V1/SLACK -> $(tail -1 <<<"$out"): $(head -1 <<<"$out")"
probe 2 'has("teamName")' "AtlasV1Slack (= CmSlack): required [type, apiToken, teamName]" "$(head -1 <<<"$out")"
req DELETE "$V2/SLACK" "$MT" "" >/dev/null

echo "3. SLACK written through atlas-v1 without channelName (optional there), read through atlas-v2 (channelName required, 1..80)"
echo "   POST $V1/SLACK -> $(req POST "$V1/SLACK" application/json application/json '{"type":"SLACK","apiToken":"xoxb-123456789","teamName":"Team"}' | tail -1)"
out="$(req GET "$V2/SLACK" "$MT" "")"
echo "   GET  $V2/SLACK -> $(tail -1 <<<"$out"): $(head -1 <<<"$out")"
probe 3 'has("channelName") and (.channelName|length) >= 1' "V2Slack: required [id, type, apiToken, channelName], channelName minLength 1" "$(head -1 <<<"$out")"
req DELETE "$V1/SLACK" application/json "" >/dev/null

echo "4. DATADOG written through atlas-v2 with region US3, read through atlas-v1 (region enum [US, EU])"
echo "   POST $V2/DATADOG -> $(req POST "$V2/DATADOG" "$MT" "$MT" '{"type":"DATADOG","apiKey":"0123456789abcdef","region":"US3"}' | tail -1)"
out="$(req GET "$V1/DATADOG" application/json "")"
echo "   GET  $V1/DATADOG -> $(tail -1 <<<"$out"): $(head -1 <<<"$out")"
probe 4 '(.region // "US") as $r | ["US","EU"] | index($r) != null' "AtlasV1Datadog: region enum [US, EU]" "$(head -1 <<<"$out")"
exit $fail
