#!/usr/bin/env bash
# Checks the module dependency rule of docs/architecture.md: each module's
# #include "module/..." lines may only name the modules allowed for it.
set -u
cd "$(dirname "$0")/.."
declare -A allow=(
  [base]="base" [img]="base img" [nn]="base nn" [detect]="base img nn haar detect"
  [align]="base img align" [embed]="base img nn embed" [eval]="base eval"
  [pipeline]="base img nn haar detect align embed pipeline"
  [haar]="base img haar" [cluster]="base nn cluster" [search]="base nn search"
  [store]="base store" [auth]="base store auth" [meta]="base meta"
  [library]="base img nn detect align embed pipeline store cluster search meta library"
  [server]="base img pipeline store cluster library auth server"
  [train]="base img nn detect align embed pipeline cluster train"
  [cli]="base img nn detect align embed pipeline eval haar cluster store library auth server train search meta cli"
)
bad=0
for f in $(find src -name '*.[ch]'); do
  mod=$(echo "$f" | cut -d/ -f2)
  grep -o '#include "[a-z_]*/' "$f" | sed 's/#include "//; s|/||' | sort -u | while read -r dep; do
    case " ${allow[$mod]:-} " in *" $dep "*) ;; *) echo "$f: module '$mod' may not include '$dep/'"; exit 1;; esac
  done || bad=1
done
# third-party libraries stay inside their module
for f in $(grep -l '#include <sodium.h>' $(find src -name '*.[ch]')); do
  case "$f" in src/auth/*) ;; *) echo "$f: libsodium is used inside auth/ only"; bad=1;; esac
done
for f in $(grep -l '#include <exempi/' $(find src -name '*.[ch]')); do
  case "$f" in src/meta/*) ;; *) echo "$f: Exempi is used inside meta/ only"; bad=1;; esac
done
[ $bad = 0 ] && echo "check-deps: ok"
exit $bad
