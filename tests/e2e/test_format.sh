#!/usr/bin/env bash
# Every C file is clang-formatted (.clang-format; `make format` fixes it).
source "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || die "clang-format missing (scripts/install-deps.sh installs it)"
files=$(find src tests bench fuzz -name '*.[ch]')
out=$(clang-format --dry-run -Werror $files 2>&1) || {
  echo "$out" | grep -E 'error:' | head -20
  die "$(echo "$out" | grep -c 'error:') formatting diagnostics: run make format"
}
echo "$(echo "$files" | wc -l) files formatted"
