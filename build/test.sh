#!/usr/bin/env bash
# Builds the solution (fetching the pinned llama.cpp libraries on first use), runs every test against
# real llama.cpp, and ends with one summary line: "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The Vulkan backend's test runs on lavapipe, Mesa's software Vulkan driver: install it and the loader from Debian's
# packages when they are missing (and this shell may).
if [ ! -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ ! -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing libvulkan1 and mesa-vulkan-drivers (lavapipe) for the Vulkan backend's test"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libvulkan1 mesa-vulkan-drivers) >/dev/null 2>&1 \
      || echo "test.sh: could not install them; the Vulkan test will say what is missing"
  else
    echo "test.sh: lavapipe is not installed and cannot be installed here (apt-get install libvulkan1 mesa-vulkan-drivers)"
  fi
fi

# The linux-arm64 test cross-compiles the ABI probe and runs arm64 builds under qemu-user, and the build cross-compiles
# the arm64 chat shim and RPC backend: install the cross compiler (with its arm64 C library) and the emulator likewise.
if ! command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing g++-aarch64-linux-gnu and qemu-user-static for the linux-arm64 build and its test"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q g++-aarch64-linux-gnu qemu-user-static) >/dev/null 2>&1 \
      || echo "test.sh: could not install them; the build warns that the arm64 shims are missing and the arm64 test says what is"
  else
    echo "test.sh: the arm64 cross compiler or qemu-user is not installed and cannot be installed here (apt-get install g++-aarch64-linux-gnu qemu-user-static)"
  fi
fi

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
