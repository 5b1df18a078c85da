#!/usr/bin/env bash
# The flag table (`quotewatch help-flags`, src/core/flags.c) against --help
# and docs/CLI.md: every subcommand's --help exits 0 and lists exactly the
# flags the table gives it, each with its default; every flag and
# environment variable is documented in docs/CLI.md; a flag given to a
# subcommand that does not take it exits 2 naming both.
. "$(dirname "$0")/lib.sh"
SUBS=(live replay sim backtest "lake tables" "lake describe" "lake scan" "lake clean-orphans" "lake expire")
help_argv() { # SUB -> the words before --help
  case "$1" in
    "lake scan") echo lake scan raw_trades ;;
    "lake describe") echo lake describe raw_trades ;;
    *) echo "$1" ;;
  esac
}
hfile() { echo "$T/help-${1// /_}"; }

"$QW_BIN" --help >"$T/top" || die "--help must exit 0"
for s in live replay sim backtest lake; do grep -q "quotewatch \[*$s" "$T/top" || die "--help lacks $s"; done
"$QW_BIN" help-flags >"$T/flags.tsv" || die "help-flags must exit 0"
(( $(wc -l <"$T/flags.tsv") >= 46 )) || die "help-flags: only $(wc -l <"$T/flags.tsv") rows"
for s in "${SUBS[@]}" lake; do
  # shellcheck disable=SC2046
  "$QW_BIN" $(help_argv "$s") --help >"$(hfile "$s")" || die "quotewatch $s --help must exit 0"
  grep -q "^usage: quotewatch .*${s#lake }" "$(hfile "$s")" || die "$s --help: not its own usage"
done

n=0
while IFS=$'\t' read -r flag env subs _metavar def _help; do
  key=$flag; [ "$flag" = - ] && key=$env
  grep -qF -- "\`$key\`" "$QW_ROOT/docs/CLI.md" || die "docs/CLI.md does not document $key"
  [ "$env" = - ] || grep -qF -- "\`$env\`" "$QW_ROOT/docs/CLI.md" || die "docs/CLI.md lacks $env"
  for s in "${SUBS[@]}"; do
    h=$(hfile "$s")
    if [[ ",$subs," == *",$s,"* ]]; then
      grep -qE -- "^  $key( |\$)" "$h" || die "quotewatch $s --help lacks $key"
      if [ "$flag" != - ]; then
        grep -E -A1 -- "^  $key( |\$)" "$h" | grep -qF -- "[default: $def" \
          || die "quotewatch $s --help: $key without its default ($def)"
      fi
      if [[ "$s" == lake* ]]; then
        grep -qE -- "^  $key( |\$)" "$(hfile lake)" || die "quotewatch lake --help lacks $key"
      fi
    else
      ! grep -qE -- "^  $key( |\$)" "$h" || die "quotewatch $s --help lists $key, which it does not take"
    fi
  done
  n=$((n + 1))
done <"$T/flags.tsv"
echo "$n table rows checked"

# the stricter parser: wrong subcommand -> exit 2 naming flag and subcommand
set +e
"$QW_BIN" sim --synthetic --watchdog 1 2>"$T/e"; rc=$?
set -e
[ $rc = 2 ] || die "sim --watchdog must exit 2 (got $rc)"
grep -q -- "--watchdog" "$T/e" && grep -q "sim" "$T/e" || die "error must name --watchdog and sim: $(cat "$T/e")"
set +e
"$QW_BIN" lake tables --limit 3 2>"$T/e"; rc=$?
set -e
[ $rc = 2 ] || die "lake tables --limit must exit 2 (got $rc)"
grep -q "lake tables" "$T/e" || die "error must name 'lake tables': $(cat "$T/e")"
echo ok
