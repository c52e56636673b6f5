#!/usr/bin/env bash
# `facehatch user`: the real binary on a temp library. add (--password-stdin and a terminal
# prompt through script(1)), list (table and JSON), duplicate add, passwd (hash changes,
# sessions end), token (printed once, stored hashed), del (counts, rows gone, other users
# untouched, ids not reused), refusals and their exit codes (2 usage, 1 failure).
# Runs a handful of Argon2id hashes at the real cost (~0.3 s each).
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
DB=$T/lib.db
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
rc_is() { local want=$1 what=$2; shift 2; "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
          if [ $rc -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, want $want: $(cat "$T/err")"; fi; }
sql() { sqlite3 "$DB" "$1"; }   # sqlite3 and jq: tools/install_deps.sh

out=$(echo "alice-secret" | "$BIN" user add alice --password-stdin --db "$DB") || bad "add alice failed"
check "add alice prints her id" [ "$out" = '{"added":"alice","id":2}' ]
out=$(printf 'bob-secret-1\r\n' | "$BIN" user add bob --password-stdin --db "$DB")
check "add bob (CRLF line)" [ "$out" = '{"added":"bob","id":3}' ]
if printf 'tina-secret\ntina-secret\n' | script -qec "$BIN user add tina --db $DB" /dev/null >"$T/tty" 2>&1; then
    check "add from a terminal prompt (script)" grep -q '"added":"tina"' "$T/tty"
else
    bad "add from a terminal prompt: $(cat "$T/tty")"
fi
printf 'one-secret-1\nanother-two\n' | script -qec "$BIN user add tom --db $DB" /dev/null >"$T/tty" 2>&1
check "terminal: two different entries are refused" grep -q "passwords differ" "$T/tty"

"$BIN" user list --json --db "$DB" >"$T/list.json"
check "list --json: local (no login), alice, bob, tina" jq -e '
  map(.name) == ["local", "alice", "bob", "tina"] and map(.login) == [false, true, true, true]
  and .[1].id == 2 and .[1].recognition == true and .[1].quota_bytes == 0
  and .[0].created == null and (.[1].created | endswith("Z"))' "$T/list.json" >/dev/null
check "list (table): a header and 4 rows" [ "$("$BIN" user list --db "$DB" | wc -l)" -eq 5 ]
check "the password is stored as an Argon2id hash only" \
    [ "$(sql "SELECT COUNT(*) FROM users WHERE pass_hash LIKE '\$argon2id\$%' AND pass_hash NOT LIKE '%alice-secret%'")" = 3 ]

echo "alice-secret" | "$BIN" user add alice --password-stdin --db "$DB" >/dev/null 2>"$T/err"
rc=$?; check "duplicate add: exit 1, 'exists'" [ $rc -eq 1 ] ; check "... message" grep -q "exists" "$T/err"
echo "short" | "$BIN" user add carol --password-stdin --db "$DB" >/dev/null 2>"$T/err"
check "short password: exit 1" [ $? -eq 1 ]
echo "long-enough-1" | "$BIN" user add "no spaces" --password-stdin --db "$DB" >/dev/null 2>&1
check "bad name: exit 1" [ $? -eq 1 ]
check "nothing was added by the refusals" [ "$(sql "SELECT COUNT(*) FROM users")" = 4 ]

old=$(sql "SELECT pass_hash FROM users WHERE name = 'alice'")
sql "INSERT INTO sessions (hash, user_id, created, expires, last_seen) VALUES ('$(printf 'a%.0s' {1..64})', 2, 1, 9999999999, 1)"
out=$(echo "alice-new-secret" | "$BIN" user passwd alice --password-stdin --db "$DB")
check "passwd: ends alice's session" [ "$out" = '{"password_changed":"alice","sessions_ended":1}' ]
check "passwd: the hash changed" [ "$(sql "SELECT pass_hash FROM users WHERE name = 'alice'")" != "$old" ]
echo "whatever-pw" | "$BIN" user passwd nobody --password-stdin --db "$DB" >/dev/null 2>&1
check "passwd of nobody: exit 1" [ $? -eq 1 ]

tok=$("$BIN" user token alice --name backup --db "$DB" | jq -r .token)
check "token: fh_ + 64 hex" grep -Eqx "fh_[0-9a-f]{64}" <<<"$tok"
check "token: stored only as its hash" [ "$(sql "SELECT COUNT(*) FROM tokens WHERE name = 'backup' AND hash NOT LIKE '%${tok:3:16}%'")" = 1 ]
"$BIN" user token alice --db "$DB" >/dev/null
check "token: a second one" [ "$(sql "SELECT COUNT(*) FROM tokens")" = 2 ]

# a photo, a person and a face for bob, so del has rows to count
sql "INSERT INTO photos (owner, path, size, mtime, sha256, width, height, status) VALUES (3, 'b.jpg', 1, 1, '', 9, 9, 0)" >/dev/null
sql "INSERT INTO persons (owner, name) VALUES (3, 'Bob')" >/dev/null
sql "INSERT INTO faces (owner, photo_id, person_id, x1, y1, x2, y2, det_score, blur, quality, dim, landmarks)
     SELECT 3, (SELECT id FROM photos WHERE owner = 3), (SELECT id FROM persons WHERE owner = 3), 0, 0, 4, 4, 1, 1, 1, 0, zeroblob(40)" >/dev/null
out=$("$BIN" user del alice --db "$DB")
check "del alice: her tokens counted" [ "$out" = '{"deleted":"alice","photos":0,"faces":0,"persons":0,"rejects":0,"sessions":0,"tokens":2}' ]
out=$("$BIN" user del bob --db "$DB")
check "del bob: his photo, face and person counted" [ "$out" = '{"deleted":"bob","photos":1,"faces":1,"persons":1,"rejects":0,"sessions":0,"tokens":0}' ]
check "del: no row of theirs is left" [ "$(sql "SELECT (SELECT COUNT(*) FROM photos) + (SELECT COUNT(*) FROM faces) + (SELECT COUNT(*) FROM persons) + (SELECT COUNT(*) FROM tokens) + (SELECT COUNT(*) FROM users WHERE id IN (2, 3))")" = 0 ]
check "del: tina is still there" [ "$(sql "SELECT COUNT(*) FROM users WHERE name = 'tina'")" = 1 ]
out=$(echo "carol-secret" | "$BIN" user add carol --password-stdin --db "$DB")
check "a new user after deletions gets a new id (5), never 2 or 3" [ "$out" = '{"added":"carol","id":5}' ]

# tokens listed and revoked, upload quota
"$BIN" user token carol --name laptop --db "$DB" >/dev/null
tid=$("$BIN" user tokens carol --db "$DB" | jq -r 'select(.name == "laptop") | .token_id')
check "tokens: carol's laptop token is listed" [ -n "$tid" ]
out=$("$BIN" user revoke carol "$tid" --db "$DB")
check "revoke: that token is gone" [ "$out" = "{\"revoked\":$tid}" -a -z "$("$BIN" user tokens carol --db "$DB")" ]
rc_is 1 "revoke: someone else's or a missing token" "$BIN" user revoke tina "$tid" --db "$DB"
rc_is 2 "revoke: not a number" "$BIN" user revoke carol x1 --db "$DB"
out=$("$BIN" user quota carol 500M --db "$DB")
check "quota 500M stored in bytes" [ "$out" = '{"user":"carol","quota_bytes":524288000}' -a "$(sql "SELECT quota_bytes FROM users WHERE name = 'carol'")" = 524288000 ]
"$BIN" user quota carol 0 --db "$DB" >/dev/null
check "quota 0: none" [ "$(sql "SELECT quota_bytes FROM users WHERE name = 'carol'")" = 0 ]
rc_is 2 "quota: not a size" "$BIN" user quota carol 5X --db "$DB"
rc_is 2 "quota: overflow" "$BIN" user quota carol 99999999999T --db "$DB"
rc_is 1 "quota: unknown user" "$BIN" user quota nobody 1G --db "$DB"

rc_is 1 "del of a missing user" "$BIN" user del alice --db "$DB"
rc_is 1 "del of the built-in local user" "$BIN" user del local --db "$DB"
rc_is 2 "add without a terminal and without --password-stdin" "$BIN" user add dan --db "$DB"
rc_is 2 "no subcommand" "$BIN" user --db "$DB"
rc_is 2 "unknown subcommand" "$BIN" user frob x --db "$DB"
rc_is 2 "add without a name" "$BIN" user add --db "$DB"
rc_is 2 "two names" "$BIN" user del a b --db "$DB"
rc_is 2 "no --db" "$BIN" user list
rc_is 2 "--name without a value" "$BIN" user token carol --db "$DB" --name
rc_is 2 "--password-stdin on del" "$BIN" user del carol --password-stdin --db "$DB"
rc_is 2 "unknown option" "$BIN" user list --frob --db "$DB"
rc_is 1 "a file that is not a database" "$BIN" user list --db /etc/passwd
check "integrity at the end" [ "$(sql "PRAGMA integrity_check")" = ok ]

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
