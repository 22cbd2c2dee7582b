# End-to-end cases, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# Issue 19, item 3: the audit trail answers who, from where, by which rule. Every record of
# a session says where it came from (SSH_CONNECTION at its start, strictly checked) and who
# logged in behind sudo and su (the kernel's loginuid and session id); an allow record names
# the rule that allowed; a syslog line has no empty key="" fields.

AT=$T/audittrail
mkdir -p "$AT"
chmod 755 "$AT"
ATLOG=$AT/log.json
write_policy "$AT/deny.ini" enforce deny "log_file = $ATLOG"
SSH_OK='192.0.2.7 50022 198.51.100.1 22'

# at_records: the JSON records since the last reset (at_reset), and the syslog lines.
at_reset() {
        : >"$ATLOG"
        [ -z "$SYSLOG" ] || : >"$SYSLOG"
}
# at_denied_df: the JSON condition "one record denies df" (and nothing was cut).
AT_DENIED='[r for r in recs if get(r, "execguard.decision") == "deny" and get(r, "execguard.blocked") == "'"$DF"'"]'

# at_source_check NAME: the df record of the session just run has the source, in the JSON
# log and in syslog.
at_source_check() {
        begin "audittrail: $1: the record of a blocked df says source.ip and source.port"
        if grep -q '^Filesystem' "$OUT"; then
                fail "df ran"
        elif ! wait_for "$ATLOG" '"exec-denied"'; then
                fail "no record; stderr: $(head -c 300 "$ERR")"
        elif ! json_check "$ATLOG" "any(get(r, 'source.ip') == '192.0.2.7' and get(r, 'source.port') == 50022 for r in $AT_DENIED)"; then
                fail "JSON: $(tail -n 1 "$ATLOG")"
        elif [ -n "$SYSLOG" ] && ! { wait_for "$SYSLOG" "decision=deny" &&
                grep "decision=deny .*blocked=\"$DF\"" "$SYSLOG" | grep -q ' source_ip="192.0.2.7" source_port="50022"'; }; then
                fail "syslog: $(tail -n 1 "$SYSLOG")"
        else
                pass
        fi
}

# at_no_source_check NAME: no source field anywhere, and nothing of the value.
at_no_source_check() {
        begin "audittrail: $1: no source fields"
        if ! wait_for "$ATLOG" '"exec-denied"'; then
                fail "no record; stderr: $(head -c 300 "$ERR")"
        elif ! json_check "$ATLOG" "recs and all(get(r, 'source') is None for r in recs)"; then
                fail "JSON: $(tail -n 1 "$ATLOG")"
        elif [ -n "$SYSLOG" ] && grep -q 'source_' "$SYSLOG"; then
                fail "syslog: $(grep source_ "$SYSLOG" | tail -n 1)"
        else
                pass
        fi
}

# ---- (a) the SSH origin, standalone and through the daemon --------------------------------

at_reset
SSH_CONNECTION=$SSH_OK sv "$AT/deny.ini" "$DF"
at_source_check "standalone"

start_notify_sink
if ! start_daemon "$AT/deny.ini"; then
        begin "audittrail: the daemon starts"
        fail "the daemon did not start: $(tail -n 3 "$DLOG")"
fi
at_reset
SSH_CONNECTION=$SSH_OK dv "$DF"
at_source_check "daemon session"

# IPv6, written as inet_ntop() writes it.
at_reset
SSH_CONNECTION='2001:DB8:0:0::7 50022 2001:db8::1 22' dv "$DF"
begin "audittrail: daemon session: an IPv6 source, normalized"
wait_for "$ATLOG" '"exec-denied"' &&
        json_check "$ATLOG" "any(get(r, 'source.ip') == '2001:db8::7' and get(r, 'source.port') == 50022 for r in $AT_DENIED)" &&
        pass || fail "$(tail -n 1 "$ATLOG")"

# Malformed: a newline (a forged field), a port out of range, a name, too few words, a
# trailing word. No source fields, and never the raw string.
n=0
for bad in $'x\ny 1 2 3' '1.2.3.4 99999 5.6.7.8 22' 'example.com 22 5.6.7.8 22' '1.2.3.4 22' \
        '1.2.3.4 22 5.6.7.8 22 x' '1.2.3.4 0 5.6.7.8 22' ' 1.2.3.4 22 5.6.7.8 22' '1.2.3.4 022 5.6.7.8 22'; do
        n=$((n + 1))
        at_reset
        SSH_CONNECTION=$bad sv "$AT/deny.ini" "$DF"
        at_no_source_check "standalone, malformed SSH_CONNECTION #$n"
        at_reset
        SSH_CONNECTION=$bad dv "$DF"
        at_no_source_check "daemon, malformed SSH_CONNECTION #$n"
done
stop_daemon

# ---- (b) the login user behind sudo: loginuid ---------------------------------------------

# Writing /proc/self/loginuid needs CAP_AUDIT_CONTROL, an audit-enabled kernel, and a loginuid
# that is not immutable (audit=1 loginuid_immutable) or not set yet.
at_loginuid_reason=""
if [ "$(id -u)" != 0 ]; then
        at_loginuid_reason="not root"
elif ! id nobody >/dev/null 2>&1; then
        at_loginuid_reason="no user nobody"
elif ! sh -c 'echo 65534 >/proc/self/loginuid' 2>/dev/null; then
        at_loginuid_reason="the kernel refuses to set /proc/self/loginuid (no audit support, or it is immutable)"
fi

# at_auid_check NAME: the df record says auid 65534 (nobody) though df ran as root.
at_auid_check() {
        begin "audittrail: $1: the record of root's df names the login user (loginuid 65534, nobody)"
        if [ -n "$at_loginuid_reason" ]; then
                skip "$at_loginuid_reason"
        elif grep -q '^Filesystem' "$OUT"; then
                fail "df ran"
        elif ! wait_for "$ATLOG" '"exec-denied"'; then
                fail "no record; stderr: $(head -c 300 "$ERR")"
        elif ! json_check "$ATLOG" "any(get(r, 'user.id') == '0' and get(r, 'user.audit.id') == '65534' and get(r, 'user.audit.name') == 'nobody' and isinstance(get(r, 'execguard.audit_session'), int) for r in $AT_DENIED)"; then
                fail "JSON: $(tail -n 1 "$ATLOG")"
        elif [ -n "$SYSLOG" ] && ! { wait_for "$SYSLOG" "decision=deny" &&
                grep "decision=deny .*blocked=\"$DF\"" "$SYSLOG" | grep -qE ' auid="65534" auser="nobody" audit_session="[0-9]+"'; }; then
                fail "syslog: $(tail -n 1 "$SYSLOG")"
        else
                pass
        fi
}

at_reset
if [ -z "$at_loginuid_reason" ]; then
        # As `sudo df` would: the login user is nobody, the process is root's.
        timeout --kill-after=5 120 sh -c 'echo 65534 >/proc/self/loginuid && exec "$@"' sh \
                "$EG" run -c "$AT/deny.ini" -- "$DF" >"$OUT" 2>"$ERR" </dev/null
fi
at_auid_check "standalone"

if ! start_daemon "$AT/deny.ini"; then
        begin "audittrail: the daemon starts again"
        fail "the daemon did not start: $(tail -n 3 "$DLOG")"
fi
at_reset
if [ -z "$at_loginuid_reason" ]; then
        timeout --kill-after=5 120 sh -c 'echo 65534 >/proc/self/loginuid && exec "$@"' sh \
                "$EG" run --socket "$SOCK" -- "$DF" >"$OUT" 2>"$ERR" </dev/null
fi
at_auid_check "daemon session"
stop_daemon

# Unset (4294967295): left out, not named.
at_reset
begin "audittrail: an unset loginuid is left out"
if [ "$(cat /proc/self/loginuid 2>/dev/null)" != 4294967295 ]; then
        skip "this shell's loginuid is set ($(cat /proc/self/loginuid 2>/dev/null))"
else
        sv "$AT/deny.ini" "$DF"
        wait_for "$ATLOG" '"exec-denied"' &&
                json_check "$ATLOG" "recs and all(get(r, 'user.audit') is None and get(r, 'execguard.audit_session') is None for r in recs)" &&
                pass || fail "$(tail -n 1 "$ATLOG")"
fi

# ---- (c) an allowlist's allow record names the rule --------------------------------------

AT_TRUE=$(readlink -f "$(type -P true)")
AT_ALLOW=$AT/allow.ini
cat >"$AT_ALLOW" <<EOF
[execguard]
default = deny
log_allowed = yes
log_file = $ATLOG
[allow]
dir = /usr/lib
dir = /usr/lib64
dir = /lib
dir = /lib64
path = $AT_TRUE
EOF
AT_LINE=$(grep -nxF "path = $AT_TRUE" "$AT_ALLOW" | cut -d: -f1)
at_reset
sv "$AT_ALLOW" "$AT_TRUE"
begin "audittrail: default = deny: the allow record names the rule $AT_ALLOW:$AT_LINE"
if [ "$RC" != 0 ]; then
        fail "true did not run: rc=$RC $(head -c 300 "$ERR")"
elif ! wait_for "$ATLOG" '"exec-allowed"'; then
        fail "no allow record"
elif grep -q 'no rule matched' "$ATLOG"; then
        fail "says no rule matched: $(tail -n 1 "$ATLOG")"
elif ! json_check "$ATLOG" "any(get(r, 'execguard.decision') == 'allow' and get(r, 'process.executable') == '$AT_TRUE' and get(r, 'rule.name') == '$AT_ALLOW:$AT_LINE' and 'allowed by $AT_ALLOW:$AT_LINE ([allow] path = $AT_TRUE)' in get(r, 'message') for r in recs)"; then
        fail "$(tail -n 1 "$ATLOG")"
elif [ -n "$SYSLOG" ] && ! { wait_for "$SYSLOG" "decision=allow" &&
        grep "decision=allow " "$SYSLOG" | grep -qF " rule=\"$AT_ALLOW:$AT_LINE\" match=\"$AT_TRUE\""; }; then
        fail "syslog: $(tail -n 1 "$SYSLOG")"
else
        pass
fi

begin "audittrail: default = deny: the allow record is as check says"
"$EG" check -c "$AT_ALLOW" "$AT_TRUE" >"$OUT" 2>&1
has "allowed by $AT_ALLOW:$AT_LINE (path = $AT_TRUE)" "$OUT" && pass || fail "$(cat "$OUT")"

# ---- (d) syslog: no empty fields ---------------------------------------------------------

begin "audittrail: a syslog line has no key=\"\" fields"
if [ -z "$SYSLOG" ]; then
        skip "no syslog sink"
else
        at_reset
        sv "$AT_ALLOW" "$AT_TRUE"
        sv "$AT/deny.ini" "$DF"
        # Only the lines of these two sessions (their ids from the JSON log): the sink may
        # hear of others on a shared machine.
        wait_for "$ATLOG" '"exec-allowed"' && wait_for "$ATLOG" '"exec-denied"'
        at_sessions=$(python3 -c 'import json, sys; print("|".join(sorted({json.loads(l)["execguard"]["session"] for l in open(sys.argv[1])})))' "$ATLOG")
        at_lines=$AT/syslog-lines.txt
        for _ in $(seq 150); do
                grep -E " session=\"($at_sessions)\"" "$SYSLOG" >"$at_lines"
                grep -q "decision=allow" "$at_lines" && grep -q "decision=deny" "$at_lines" && break
                sleep 0.02
        done
        if [ -z "$at_sessions" ] || ! grep -q "decision=allow" "$at_lines" || ! grep -q "decision=deny" "$at_lines"; then
                fail "no records of sessions '$at_sessions': $(tail -n 2 "$SYSLOG")"
        elif grep -q '=""' "$at_lines"; then
                fail "$(grep '=""' "$at_lines" | tail -n 1)"
        else
                pass
        fi
fi
