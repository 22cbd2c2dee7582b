# End-to-end checks that a policy cannot quietly weaken (issue: a fleet of SSH bastions):
# what `check`, a session's load and the daemon's load and reload say of a policy that names
# what this host lacks, blocks nothing or lost most of its rules; long and indented lines.
# Sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and the helpers;
# daemon-lib.sh is sourced before).

FL=$T/fleet
mkdir -p "$FL"
chmod 755 "$FL"

# check_says NAME POLICY-FILE TEXT...: `execguard check -c` accepts the file (status 0) and
# its stderr has every TEXT.
check_says() {
        local name=$1 file=$2
        shift 2
        begin "fleet: check: $name"
        "$EG" check -c "$file" >"$OUT" 2>"$ERR"
        local rc=$? why=""
        [ "$rc" = 0 ] || why="rc=$rc"
        for text in "$@"; do has "$text" "$ERR" || why="$why; no '$text'"; done
        [ -z "$why" ] && pass || fail "${why#; }: $(head -c 600 "$ERR")"
}

# A misspelt program is accepted (it may appear later) but said, with file:line.
cat >"$FL/typo.ini" <<EOT
[block]
path = $DF
path = /usr/bin/dff
dir = /opt/execguard-e2e-missing
EOT
check_says "a path naming nothing is a warning with file:line" "$FL/typo.ini" \
        "$FL/typo.ini:3: warning: path = /usr/bin/dff: no such file; the rule will apply if it appears" \
        "$FL/typo.ini:4: warning: dir = /opt/execguard-e2e-missing: no such directory"
begin "fleet: a session under that policy says the warning at load with -v only (not to the user), df blocked"
sv "$FL/typo.ini" "$DF"
rc_plain=$RC
cp "$ERR" "$FL/plain.err"
timeout 60 "$EG" run -v -c "$FL/typo.ini" -- "$DF" >"$OUT" 2>"$ERR" </dev/null
rc_v=$?
if [ "$rc_plain" = 126 ] && [ "$rc_v" = 126 ] && ! has "warning" "$FL/plain.err" &&
        has "$FL/typo.ini:3: warning: path = /usr/bin/dff: no such file" "$ERR"; then
        pass
else
        fail "rc=$rc_plain, -v $rc_v: $(head -c 300 "$FL/plain.err"); -v: $(grep warning "$ERR" | head -c 300)"
fi

# One policy for every host: users and groups a host lacks are warnings, the rest applies.
cat >"$FL/users.ini" <<EOT
[block]
path = $DF
[user:execguard-e2e-nosuchuser]
path = /usr/bin/id
[group:execguard-e2e-nosuchgroup]
path = /usr/bin/id
EOT
check_says "a user or group this host lacks is a warning, not an error" "$FL/users.ini" \
        "$FL/users.ini:3: warning: no user 'execguard-e2e-nosuchuser' on this host" \
        "$FL/users.ini:5: warning: no group 'execguard-e2e-nosuchgroup' on this host"
begin "fleet: under it df is blocked and the sections of unknown names apply to nobody"
sv "$FL/users.ini" sh -c "$DF >/dev/null 2>&1; echo df=\$?; /usr/bin/id -u >/dev/null; echo id=\$?"
has "df=126" "$OUT" && has "id=0" "$OUT" && pass || fail "$(cat "$OUT") $(head -c 300 "$ERR")"

# A line with leading blanks is its own key = value line: the indented rule blocks.
printf '[execguard]\n  mode = enforce\n [block]\n\tpath = %s\n' "$DF" >"$FL/indented.ini"
begin "fleet: an indented rule is read as a rule, and blocks"
sv "$FL/indented.ini" "$DF"
[ "$RC" = 126 ] && has "execguard: blocked $DF" "$ERR" && pass || fail "rc=$RC: $(head -c 300 "$ERR")"

# A command rule of many arguments, longer than inih's 198 bytes: it applies whole.
ARGS=""
for i in $(seq 1 40); do ARGS="$ARGS argument-number-$i"; done
printf '[block]\ncommand = /usr/bin/echo%s\n' "$ARGS" >"$FL/long.ini"
begin "fleet: a command rule on a line of $(($(wc -c <"$FL/long.ini") - 8)) bytes blocks exactly that command"
# shellcheck disable=SC2086 # the arguments, one word each
sv "$FL/long.ini" sh -c "/usr/bin/echo $ARGS >/dev/null; echo whole=\$?; /usr/bin/echo ${ARGS% *} >/dev/null; echo short=\$?"
has "whole=126" "$OUT" && has "short=0" "$OUT" && pass || fail "$(cat "$OUT") $(head -c 300 "$ERR")"
python3 -c "print('[block]'); print('path = /' + 'a/' * 2100 + 'x')" >"$FL/toolong.ini"
begin "fleet: a line over 4096 bytes is an error with file:line, never cut"
"$EG" check -c "$FL/toolong.ini" >"$OUT" 2>"$ERR"
rc=$?
[ "$rc" = 2 ] && has "$FL/toolong.ini:2: line too long (at most 4096 bytes)" "$ERR" && pass ||
        fail "rc=$rc: $(head -c 300 "$ERR")"

# An enforcing policy that blocks nothing (a file cut short) is said loudly.
printf '[execguard]\nmode = enforce\n' >"$FL/empty.ini"
check_says "an enforcing policy with no rules says it blocks nothing" "$FL/empty.ini" \
        "$FL/empty.ini: warning: the policy blocks nothing"

# 200,000 rules in missing directories: a screen, not 200,000 lines.
python3 -c "
print('[block]')
for i in range(200000): print('path = /execguard-e2e-missing/d%d/x' % i)" >"$FL/many.ini"
begin "fleet: 200,000 rules in missing directories: a session starts with a summary, not 200,000 lines"
timeout 120 "$EG" run -v -c "$FL/many.ini" -- true >"$OUT" 2>"$ERR" </dev/null
RC=$?
lines=$(grep -c "warning\|Cannot watch" "$ERR")
[ "$RC" = 0 ] && [ "$lines" -le 15 ] && has "199990 more warnings like these" "$ERR" &&
        has "Cannot watch the directories of 199999 more rules" "$ERR" && pass ||
        fail "rc=$RC, $lines lines: $(head -c 400 "$ERR")"

# The daemon: the warnings at load and at reload; a reload that loses most rules is said in
# its log line and in STATUS=.
cat >"$FL/daemon.ini" <<EOT
[block]
path = $DF
path = /usr/bin/du
path = /usr/bin/id
path = /usr/bin/dff
EOT
chmod 644 "$FL/daemon.ini"
rm -f "$D/notify.sock"
start_notify_sink
from=$(($(stat -c %s "$DLOG" 2>/dev/null || echo 0) + 1))
begin "fleet: the daemon says a policy's warnings at load"
if start_daemon "$FL/daemon.ini"; then
        tail -c +"$from" "$DLOG" >"$FL/dlog"
        has "$FL/daemon.ini:5: warning: path = /usr/bin/dff: no such file" "$FL/dlog" && pass ||
                fail "$(head -c 400 "$FL/dlog")"

        begin "fleet: a reload that drops more than half the rules says so in its log line and STATUS="
        printf '[block]\npath = %s\n' "$DF" >"$FL/daemon.ini.new"
        chmod 644 "$FL/daemon.ini.new"
        # The daemon sees the file replaced (inotify) and reloads it by itself, as it would
        # a file cut short by an editor.
        : >"$NOTIFY"
        from=$(($(stat -c %s "$DLOG") + 1))
        mv "$FL/daemon.ini.new" "$FL/daemon.ini"
        for _ in $(seq 100); do
                tail -c +"$from" "$DLOG" | grep -q "Policy reloaded" && grep -q "STATUS=" "$NOTIFY" && break
                sleep 0.05
        done
        tail -c +"$from" "$DLOG" >"$FL/dlog"
        has "3 of the 4 rules in force before are gone" "$FL/dlog" &&
                has "STATUS=the last reload dropped 3 of 4 rules" "$NOTIFY" && pass ||
                fail "log: $(head -c 300 "$FL/dlog"); notify: $(cat "$NOTIFY")"

        begin "fleet: a reload to a policy that blocks nothing says so"
        printf '[execguard]\nmode = enforce\n' >"$FL/daemon.ini.new"
        chmod 644 "$FL/daemon.ini.new"
        mv "$FL/daemon.ini.new" "$FL/daemon.ini"
        from=$(($(stat -c %s "$DLOG") + 1))
        "$EG" reload --socket "$SOCK" >"$OUT" 2>&1
        tail -c +"$from" "$DLOG" >"$FL/dlog"
        has "warning: the policy blocks nothing" "$FL/dlog" && pass || fail "$(head -c 300 "$FL/dlog")"
        stop_daemon
else
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi

# A session inside a session cannot be supervised (the kernel refuses a second listener):
# said as it is, not as a kernel without seccomp, and no supervisor is "lost" (none ran).
begin "fleet: run inside a session fails 125 with the true reason, no CONFIG_SECCOMP_FILTER hint, no loss record"
sv "$P" "$EG" run -c "$P" -- true
if [ "$RC" = 125 ] && has "already under seccomp filters" "$ERR" && ! has "CONFIG_SECCOMP_FILTER" "$ERR" &&
        ! has "was lost" "$ERR"; then
        pass
else
        fail "rc=$RC: $(head -c 500 "$ERR")"
fi
