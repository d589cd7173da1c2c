#!/usr/bin/env bash
# Property-based run of the REST API against its own OpenAPI document (schemathesis, PyPI):
# starts the release `skillmeat serve` on a fresh home with one artifact added and deployed,
# then lets schemathesis generate requests for every operation and check every answer:
# no 5xx, status codes and bodies as documented, content types as documented.
# The two SSE streams are left out (a stream that never ends cannot be checked as a response);
# tests cover them. Two checks are off because they test a contract this API does not have:
# positive_data_acceptance expects every schema-valid body to succeed, but a well-formed
# artifact id or path can still name something that does not exist or is not a registered
# project (422 by design); use_after_free expects a DELETEd job to vanish, but DELETE cancels a
# job and its record stays readable. Usage: scripts/api-fuzz.sh [extra schemathesis args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/target/release/skillmeat"
[ -x "$bin" ] || { echo "build first: make build" >&2; exit 1; }
command -v st >/dev/null || python3 -m pip install --quiet 'schemathesis>=4,<5'

work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
home="$work/home" up="$work/up" project="$work/project"
mkdir -p "$up/skills/demo" "$project"
printf '# Demo\nA demo skill.\n' >"$up/skills/demo/SKILL.md"
git -C "$up" init -q -b main
git -C "$up" add -A
git -C "$up" -c user.name=fuzz -c user.email=fuzz@example.invalid commit -qm v1
"$bin" --home "$home" add "$up#skills/demo" >/dev/null
"$bin" --home "$home" deploy skill:demo --project "$project" >/dev/null

"$bin" serve --port 0 --home "$home" --site-root "$work/no-site" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 100); do grep -q 'running at' "$work/out" && break; sleep 0.1; done
url="$(grep -o 'running at http://[^ ]*' "$work/out" | cut -d' ' -f3)"
token="$(cat "$home/server-token")"
echo "fuzzing ${url}api/v1 (project $project)"
st run "${url}api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --exclude-checks positive_data_acceptance,use_after_free \
  --exclude-path-regex 'events$' \
  --max-examples "${FUZZ_EXAMPLES:-50}" \
  "$@"
