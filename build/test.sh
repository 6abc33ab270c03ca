#!/usr/bin/env bash
# Builds the solution (fetching the pinned llama.cpp libraries on first use), runs every test against
# real llama.cpp, and ends with one summary line: "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

results="$root/artifacts/test-results"
rm -rf "$results"

# dotnet test alone builds only the test project's references; the CUDA backend projects (whose libraries the
# loader tests probe) are built with the rest of the solution first.
dotnet build LocalLlm.sln --configuration Release
status=$?
if [ "$status" -eq 0 ]; then
  dotnet test LocalLlm.sln --configuration Release --no-build \
    --logger "trx" --logger "console;verbosity=normal" \
    --results-directory "$results" "$@"
  status=$?
fi

passed=0
failed=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any result was written: count that as a failure.
  failed=1
fi

echo "$passed passed, $failed failed"
exit "$status"
