# execguard learn (issue 21): an allowlist written from the records of sessions run under
# the bastion's policy in audit mode, loaded and replayed: what ran runs again, nothing else
# does. Sourced by run.sh (EG, T, H, OUT, ERR, has, begin/pass/fail).

LN=$T/learn
BASTION_POLICY="$HERE/../../policy/ssh-bastion.ini"
mkdir -p "$LN/tools" "$LN/odd"
chmod 755 "$LN" "$LN/tools" "$LN/odd"
# The recording policy: the bastion's, in audit mode, every exec recorded to a JSON file.
sed -e 's/^mode = enforce$/mode = audit/' "$BASTION_POLICY" >"$LN/record.ini"
sed -i "s|^log_allowed = yes$|log_allowed = yes\\nlog_file = $LN/audit.json|" "$LN/record.ini"
: >"$LN/audit.json"
# A directory of root's tools, all of which run: one directory rule. Beside them, a program
# whose name is a glob, and another that never runs: a path rule that names it alone.
for tool in a b; do printf '#!/bin/sh\necho tool-%s\n' "$tool" >"$LN/tools/$tool"; done
printf '#!/bin/sh\necho odd\n' >"$LN/odd/x*[1]"
printf '#!/bin/sh\necho not-run\n' >"$LN/odd/xz1"
chmod 755 "$LN"/tools/* "$LN"/odd/*

# What the sessions run: root's, then nobody's (through setpriv, in the same session).
cat >"$LN/root-session.sh" <<EOF
ls / >/dev/null
id -u
cat /etc/hostname >/dev/null
grep -q root /etc/passwd
head -n 1 /etc/passwd >/dev/null
date +%s >/dev/null
df / >/dev/null
"$LN/tools/a"
"$LN/tools/b"
"$LN/odd/x*[1]"
EOF
NOBODY_SESSION='whoami; ls / >/dev/null'
record_sessions() { # POLICY: both sessions under it; rc of each in "$LN/rcs"
        "$EG" run -c "$1" -- /usr/bin/bash "$LN/root-session.sh" >"$OUT" 2>"$ERR"
        echo "root=$?" >"$LN/rcs"
        "$EG" run -c "$1" -- setpriv --reuid=nobody --regid=nogroup --clear-groups -- /bin/sh -c "$NOBODY_SESSION" \
                >>"$OUT" 2>>"$ERR"
        echo "nobody=$?" >>"$LN/rcs"
}

begin "learn: the bastion's sessions recorded in audit mode"
if ! command -v setpriv >/dev/null; then
        skip "no setpriv"
        return 0 2>/dev/null || exit 0
fi
chmod 644 "$LN/record.ini"
record_sessions "$LN/record.ini"
has "root=0" "$LN/rcs" && has "nobody=0" "$LN/rcs" && has "tool-a" "$OUT" && has "nobody" "$OUT" &&
        [ "$(grep -c '"exec-audited"' "$LN/audit.json")" -ge 4 ] && pass ||
        fail "$(cat "$LN/rcs" "$OUT" "$ERR")"

begin "learn: writes a valid allowlist (default = deny) from the records"
"$EG" learn -o "$LN/learned.ini" "$LN/audit.json" >"$OUT" 2>"$ERR"
RC=$?
"$EG" check -c "$LN/learned.ini" >>"$OUT" 2>>"$ERR"
[ "$RC" = 0 ] && [ $? = 0 ] && has "valid policy" "$OUT" && grep -qx 'default = deny' "$LN/learned.ini" &&
        has "execs that ran" "$ERR" && pass || fail "rc=$RC $(cat "$OUT" "$ERR" "$LN/learned.ini")"

begin "learn: every rule says how often and by whom; root's tools are one directory rule"
# The line before each rule is its comment.
uncommented=$(awk '/^(path|dir|allow|allow_dir) = / && prev !~ /^# / { print } { prev = $0 }' "$LN/learned.ini")
# Only root ran them: in [user:root], where allow_dir is the key.
[ -z "$uncommented" ] && grep -Eqx "(dir|allow_dir) = $LN/tools" "$LN/learned.ini" &&
        grep -q '^# the whole directory ran: 2 programs, 2 runs$' "$LN/learned.ini" &&
        grep -qx '# 1 run: root 1' "$LN/learned.ini" && ! grep -Eq "^(path|allow) = $LN/tools/" "$LN/learned.ini" &&
        pass || fail "uncommented: $uncommented; $(cat "$LN/learned.ini")"

begin "learn: what only nobody ran is allowed to nobody alone ([user:nobody])"
awk '/^\[user:nobody\]$/ { s = 1; next } /^\[/ { s = 0 } s' "$LN/learned.ini" >"$LN/nobody-rules"
grep -qx 'allow = /usr/bin/whoami' "$LN/nobody-rules" && ! grep -q '^path = /usr/bin/whoami' "$LN/learned.ini" &&
        grep -qx 'path = /usr/bin/ls' "$LN/learned.ini" && pass || fail "$(cat "$LN/learned.ini")"

begin "learn: a name that is a glob is escaped, and names that file alone"
grep -qxF "allow = $LN/odd/x\\*\\[1]" "$LN/learned.ini" && pass || fail "$(grep odd "$LN/learned.ini")"

begin "learn: the sessions replayed under the learned policy (enforce): 0 refusals"
chmod 644 "$LN/learned.ini"
record_sessions "$LN/learned.ini"
has "root=0" "$LN/rcs" && has "nobody=0" "$LN/rcs" && has "tool-b" "$OUT" && has "odd" "$OUT" &&
        ! has "execguard: blocked" "$ERR" && pass || fail "$(cat "$LN/rcs" "$ERR")"

begin "learn: what never ran is refused: another program, another user's, the glob's namesake"
"$EG" run -c "$LN/learned.ini" -- /usr/bin/bash -c "
        uname; echo uname=\$?
        whoami; echo whoami=\$?
        '$LN/odd/xz1'; echo xz1=\$?" >"$OUT" 2>"$ERR"
has "uname=126" "$OUT" && has "whoami=126" "$OUT" && has "xz1=126" "$OUT" && has "execguard: blocked /usr/bin/uname" "$ERR" &&
        ! has "not-run" "$OUT" && pass || fail "$(cat "$OUT" "$ERR")"

begin "learn --diff: the bastion's own policy (enforce) would have refused df and the tools, and says by which rule"
"$EG" learn --diff "$BASTION_POLICY" "$LN/audit.json" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "refused: /usr/bin/df: blocked by $BASTION_POLICY:" "$OUT" && has "[user root]; ran 1 time as 'df' '/'" "$OUT" &&
        has "refused: $LN/tools/a: blocked by" "$OUT" && has "refused: $LN/odd/x*[1]: blocked by" "$OUT" &&
        ! has "refused: /usr/bin/ls" "$OUT" && has "$BASTION_POLICY would have refused 5 of" "$OUT" && pass ||
        fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "learn --diff: the learned policy refuses nothing that ran"
"$EG" learn --diff "$LN/learned.ini" "$LN/audit.json" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && has "would have refused 0 of" "$OUT" && pass || fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "learn: a line that is not a record is said, with its place, and the rest is learned"
{ cat "$LN/audit.json"; printf '{"event": {"action": "exec-allowed"\n'; } >"$LN/cut.json"
"$EG" learn "$LN/cut.json" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && has "$LN/cut.json:$(($(wc -l <"$LN/audit.json") + 1)): not a record" "$ERR" && has "dir = $LN/tools" "$OUT" &&
        pass || fail "rc=$RC $(cat "$ERR")"

begin "learn: records of nothing that ran write no policy (it would refuse everything)"
grep -v '"exec-allowed"\|"exec-audited"' "$LN/audit.json" >"$LN/none.json"
"$EG" learn -o "$LN/none.ini" "$LN/none.json" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && [ ! -e "$LN/none.ini" ] && has "nothing written" "$ERR" && pass || fail "rc=$RC $(cat "$ERR")"

# The same sessions recorded by the journal (journal-sink stands in for journald, in a
# private mount namespace), printed as journalctl -o json prints them: the same policy.
begin "learn: from the journal (journalctl -o json), the same policy as from the JSON file"
if command -v unshare >/dev/null && command -v python3 >/dev/null; then
        grep -v '^log_file = ' "$LN/record.ini" >"$LN/record-journal.ini"
        chmod 644 "$LN/record-journal.ini"
        unshare -m /bin/sh -c '
                mkdir -p /run/systemd/journal && mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal || exit 9
                "$1/journal-sink" /run/systemd/journal/socket "$2/journal.txt" & sink=$!
                for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
                "$3" run -c "$2/record-journal.ini" -- /usr/bin/bash "$2/root-session.sh" >/dev/null 2>&1
                "$3" run -c "$2/record-journal.ini" -- setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
                        /bin/sh -c "$4" >/dev/null 2>&1
                sleep 0.3; kill $sink' sh "$H" "$LN" "$EG" "$NOBODY_SESSION"
        # journalctl -o json: one object a line, every field a string, and the entry's time.
        python3 - "$LN/journal.txt" >"$LN/journal.json" <<'PY'
import json, sys, time
for line in open(sys.argv[1]):
    entry = {}
    for field in line.rstrip("\n").split("\t"):
        key, _, value = field.partition("=")
        entry[key] = value.replace("\\n", "\n").replace("\\t", "\t")
    entry["__REALTIME_TIMESTAMP"] = str(int(time.time() * 1e6))
    print(json.dumps(entry))
PY
        "$EG" learn -o "$LN/learned-journal.ini" "$LN/journal.json" >"$OUT" 2>"$ERR"
        RC=$?
        if [ "$RC" = 0 ] && diff <(grep -v '^# Written' "$LN/learned.ini") <(grep -v '^# Written' "$LN/learned-journal.ini") >"$OUT"; then
                pass
        else
                fail "rc=$RC $(head -c 600 "$OUT" "$ERR")"
        fi
else
        skip "no unshare or python3"
fi
