#!/usr/bin/env bash
# Lays out the pinned llama.cpp build for one backend, fetched with `npm pack` and checked against
# build/native/llama-native.lock. Idempotent; offline once the cache holds the tarballs.
#
#   acquire-native.sh cpu    <dest>   libllama, libllama-common, libggml, libggml-base, every libggml-cpu-*.so, and
#                                     liblocalllm-chat.so (our C shim over llama.cpp's chat layer, compiled here with
#                                     g++ from localllm_chat.cpp against the pinned source's headers) into <dest>
#   acquire-native.sh cpu-arm64 <dest>  the same for linux-arm64, the shim cross-compiled with aarch64-linux-gnu-g++
#   acquire-native.sh vulkan <dest>   <dest>/vulkan/libggml-vulkan.so (links the system's libvulkan.so.1)
#   acquire-native.sh cuda13 <dest>   <dest>/cuda13/libggml-cuda.so (links CUDA 13)
#   acquire-native.sh cuda12 <dest>   <dest>/cuda12/libggml-cuda.so (links CUDA 12)
#   acquire-native.sh rpc    <dest>   libggml-rpc.so (ggml's RPC backend) and rpc-server (its worker), compiled here with
#                                     g++ from the pinned source and linked to the CPU package's prebuilt libggml
#   acquire-native.sh rpc-arm64 <dest>  the same for linux-arm64, cross-compiled against the arm64 package's libggml
#   acquire-native.sh source [file]   prints the path of the matching llama.cpp source tree (headers, vocab GGUFs),
#                                     and writes it to [file] when given (build logs stay out of the path)
#
# Cache: $LOCALLLM_NATIVE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/localllm/native.
# The arm64 keys need a cross compiler ($LOCALLLM_AARCH64_CXX, else aarch64-linux-gnu-g++: Debian's
# g++-aarch64-linux-gnu). Without one they lay out what is prebuilt, leave out what must be compiled, and write the
# reason to <dest>/.incomplete, which build/Native.targets turns into a build warning and a pack error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/llama-native.lock"
key="${1:?usage: acquire-native.sh cpu|cpu-arm64|rpc|rpc-arm64|vulkan|cuda13|cuda12|source [dest]}"
dest="${2:-}"
cache="${LOCALLLM_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/localllm/native}"

fail() { echo "acquire-native: error: $*" >&2; exit 1; }

# The RPC backend is not prebuilt: it is compiled against the CPU package's libraries, so it pins to that entry.
lock_key="$key"
case "$key" in
  rpc) lock_key=cpu ;;
  rpc-arm64) lock_key=cpu-arm64 ;;
esac

# What we compile is compiled for the package's machine: the host's g++ for linux-x64, a cross compiler for arm64.
case "$key" in
  *-arm64) rid=linux-arm64; cxx="${LOCALLLM_AARCH64_CXX:-aarch64-linux-gnu-g++}"; cxx_package=g++-aarch64-linux-gnu ;;
  *) rid=linux-x64; cxx=g++; cxx_package=g++ ;;
esac
line="$(awk -F'\t' -v k="$lock_key" '$1 == k { print; exit }' "$lock")"
[ -n "$line" ] || fail "no entry '$key' in $lock (known: $(awk -F'\t' '!/^#/ {printf "%s ", $1}' "$lock"))"
IFS=$'\t' read -r _ package version integrity <<<"$line"

# npm names the tarball after the package: @scope/name -> scope-name-version.tgz
tarball="$cache/$(echo "${package#@}" | tr '/' '-')-$version.tgz"
unpacked="$cache/$lock_key-$version"

integrity_of() {
  # npm's integrity string: "sha512-" + base64 of the raw digest. Built from coreutils alone.
  local hex
  hex="$(sha512sum "$1" | cut -d' ' -f1)"
  printf 'sha512-%s' "$(printf '%s' "$hex" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0)"
}

verify() {
  local actual
  actual="$(integrity_of "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    fail "integrity mismatch for $package@$version
  file:     $tarball
  expected: $integrity (build/native/llama-native.lock)
  actual:   $actual
Delete the file to fetch it again; if the registry really serves different bytes, review the change before updating the lock."
  fi
}

fetch() {
  mkdir -p "$cache"
  if [ -f "$tarball" ]; then
    verify
    return
  fi
  command -v npm >/dev/null 2>&1 || fail "npm is not installed, and the native llama.cpp libraries come from the npm package $package@$version.
Install Node.js with npm (https://nodejs.org, or 'apt-get install npm' on Debian/Ubuntu), then build again.
Alternatively put $(basename "$tarball") (from 'npm pack $package@$version' on another machine) into $cache."
  echo "acquire-native: npm pack $package@$version -> $cache" >&2
  local tmp
  tmp="$(mktemp -d "$cache/.pack.XXXXXX")"
  (cd "$tmp" && npm pack "$package@$version" --silent >/dev/null) || { rm -rf "$tmp"; fail "'npm pack $package@$version' failed (see npm's output above)."; }
  mv "$tmp"/*.tgz "$tarball.partial"
  rm -rf "$tmp"
  mv "$tarball.partial" "$tarball"
  verify
}

unpack() {
  [ -f "$unpacked/.complete" ] && return
  rm -rf "$unpacked" && mkdir -p "$unpacked"
  tar -xzf "$tarball" -C "$unpacked"
  touch "$unpacked/.complete"
}

# Copies only when the content differs, so incremental builds see unchanged timestamps.
place() {
  local src="$1" dst="$2"
  mkdir -p "$(dirname "$dst")"
  if [ ! -f "$dst" ] || ! cmp -s "$src" "$dst"; then
    cp "$src" "$dst"
  fi
}

# Compiles the chat shim against the pinned source's common/ headers and links it to the prebuilt libllama-common.so;
# the result is cached by the hash of its source, so a rebuild happens only when the shim or the pin changes.
build_chat_shim() {
  local bins="$1" shim="$here/localllm_chat.cpp" source_dir hash out
  [ -f "$shim" ] || fail "missing $shim"
  hash="$(cat "$shim" "$lock" "$here/acquire-native.sh" | sha256sum | cut -c1-16)"
  out="$cache/chat-shim-$version-$rid-$hash/liblocalllm-chat.so"
  if [ ! -f "$out" ]; then
    have_compiler "the chat shim, liblocalllm-chat.so" || return
    source_dir="$(bash "$here/acquire-native.sh" source)"
    mkdir -p "$(dirname "$out")"
    echo "acquire-native: $cxx $(basename "$shim") -> $out" >&2
    "$cxx" -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden \
      -I"$source_dir/common" -I"$source_dir/include" -I"$source_dir/ggml/include" -I"$source_dir/vendor" -I"$source_dir/src" \
      "$shim" -L"$bins" -l:libllama-common.so -l:"$(basename "$bins"/libllama.v*.so)" -l:"$(basename "$bins"/libggml.v*.so)" -l:libggml-base.so \
      -Wl,-rpath,'$ORIGIN' -Wl,--no-undefined -o "$out.partial" >&2 || fail "compiling $shim failed (see g++'s output above)."
    mv "$out.partial" "$out"
  fi
  echo "$out"
}

# Compiles ggml's RPC backend module and its worker from the pinned source (ggml/src/ggml-rpc, tools/rpc) against the
# prebuilt libggml-base / libggml, with the defines ggml's own build gives a dynamically loaded backend; cached by the
# hash of the sources and this script.
build_rpc() {
  local bins="$1" source_dir hash out
  source_dir="$(bash "$here/acquire-native.sh" source)"
  hash="$(cat "$source_dir/ggml/src/ggml-rpc/ggml-rpc.cpp" "$source_dir/ggml/src/ggml-rpc/transport.cpp" "$source_dir/tools/rpc/rpc-server.cpp" "$lock" "$here/acquire-native.sh" | sha256sum | cut -c1-16)"
  out="$cache/rpc-$version-$rid-$hash"
  if [ ! -f "$out/.complete" ]; then
    have_compiler "ggml's RPC backend, libggml-rpc.so, and rpc-server" || return
    rm -rf "$out" && mkdir -p "$out"
    echo "acquire-native: $cxx ggml-rpc, rpc-server -> $out" >&2
    "$cxx" -std=c++17 -O2 -fPIC -shared -DGGML_BACKEND_DL -DGGML_BACKEND_BUILD -DGGML_BACKEND_SHARED -DGGML_SHARED -DGGML_BUILD \
      -I"$source_dir/ggml/include" -I"$source_dir/ggml/src" \
      "$source_dir/ggml/src/ggml-rpc/ggml-rpc.cpp" "$source_dir/ggml/src/ggml-rpc/transport.cpp" \
      -L"$bins" -l:libggml-base.so -Wl,-rpath,'$ORIGIN' -Wl,--no-undefined -o "$out/libggml-rpc.so" >&2 \
      || fail "compiling ggml's RPC backend failed (see g++'s output above)."
    "$cxx" -std=c++17 -O2 -DGGML_SHARED -I"$source_dir/ggml/include" -I"$source_dir/ggml/src" \
      "$source_dir/tools/rpc/rpc-server.cpp" -L"$bins" -l:"$(basename "$bins"/libggml.v*.so)" -l:libggml-base.so \
      -Wl,-rpath,'$ORIGIN' -o "$out/rpc-server" >&2 || fail "compiling rpc-server failed (see g++'s output above)."
    touch "$out/.complete"
  fi
  echo "$out"
}

# Asked only when something must be compiled (a cached build needs no compiler). For the host's g++ a missing compiler
# is an error; for a cross compiler the layout goes on without what it would compile, says so in <dest>/.incomplete,
# and returns no_compiler, which the callers below tell apart from a failed compile.
no_compiler=3
have_compiler() {
  command -v "$cxx" >/dev/null 2>&1 && return 0
  local reason="$cxx is not installed, so LocalLlm's compiled native code for $rid ($1) is missing from $dest. Install it (apt-get install $cxx_package) or set LOCALLLM_AARCH64_CXX, then build again."
  [ "$rid" = linux-x64 ] && fail "$reason"
  echo "acquire-native: warning: $reason" >&2
  printf '%s\n' "$reason" > "$dest/.incomplete"
  return "$no_compiler"
}

fetch
unpack

case "$key" in
  cpu | cpu-arm64)
    [ -n "$dest" ] || fail "$key needs a destination directory"
    mkdir -p "$dest" && rm -f "$dest/.incomplete"
    bins="$unpacked/package/bins/$rid"
    for lib in "$bins"/libllama.v*.so "$bins"/libllama-common.so "$bins"/libggml.v*.so "$bins"/libggml-base.so "$bins"/libggml-cpu-*.so; do
      [ -f "$lib" ] || fail "expected library missing from $package@$version: $lib"
      place "$lib" "$dest/$(basename "$lib")"
    done
    if shim="$(build_chat_shim "$bins")"; then
      place "$shim" "$dest/liblocalllm-chat.so"
    else
      status=$?
      [ "$status" -eq "$no_compiler" ] || exit "$status"
      rm -f "$dest/liblocalllm-chat.so"
    fi
    ;;
  rpc | rpc-arm64)
    [ -n "$dest" ] || fail "$key needs a destination directory"
    mkdir -p "$dest" && rm -f "$dest/.incomplete"
    if built="$(build_rpc "$unpacked/package/bins/$rid")"; then
      place "$built/libggml-rpc.so" "$dest/libggml-rpc.so"
      place "$built/rpc-server" "$dest/rpc-server"
      chmod +x "$dest/rpc-server"
    else
      status=$?
      [ "$status" -eq "$no_compiler" ] || exit "$status"
      rm -f "$dest/libggml-rpc.so" "$dest/rpc-server"
    fi
    ;;
  vulkan)
    [ -n "$dest" ] || fail "vulkan needs a destination directory"
    place "$unpacked/package/bins/linux-x64-vulkan/libggml-vulkan.so" "$dest/vulkan/libggml-vulkan.so"
    ;;
  cuda13)
    [ -n "$dest" ] || fail "cuda13 needs a destination directory"
    place "$unpacked/package/bins/linux-x64-cuda/libggml-cuda.so" "$dest/cuda13/libggml-cuda.so"
    ;;
  cuda12)
    [ -n "$dest" ] || fail "cuda12 needs a destination directory"
    place "$unpacked/package/bins/linux-x64-cuda/fallback/libggml-cuda.so" "$dest/cuda12/libggml-cuda.so"
    ;;
  source)
    checkout="$cache/llama.cpp-$version"
    if [ ! -f "$checkout/.complete" ]; then
      command -v git >/dev/null 2>&1 || fail "git is needed to unpack llama.cpp's source bundle; install git."
      rm -rf "$checkout"
      git -c advice.detachedHead=false clone --quiet "$unpacked/package/llama/gitRelease.bundle" "$checkout" >&2
      touch "$checkout/.complete"
    fi
    [ -f "$checkout/include/llama.h" ] || fail "llama.h missing from $checkout"
    if [ -n "$dest" ]; then
      mkdir -p "$(dirname "$dest")"
      printf '%s\n' "$checkout" > "$dest"
    fi
    echo "$checkout"
    ;;
  *) fail "unknown key '$key'" ;;
esac
