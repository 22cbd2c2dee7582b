# End-to-end attacks, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
#
# What execguard says: a user names a file so that its path, quoted in a diagnostic, forges
# a line of the log or of the terminal ("execguard: FORGED ..." after a newline) or acts on
# the reader's terminal (ESC [, and its 8-bit form CSI, 0x9b, bare or as UTF-8 U+009B).
# Every message that can quote such a path is made to quote it: the one on the process's
# stderr, the supervisor's log (syslog standalone, stderr under the daemon), run's own, and
# check's. Each case asserts that the escaped path is there (so that it cannot pass by the
# message not being said) and that no forged line, no ESC and no 0x9b byte is.

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1 ||
        ! command -v python3 >/dev/null || [ -z "$SYSLOG" ]; then
        begin "diagnostics"
        skip "need root, setpriv, the user nobody, python3 and the syslog sink"
        return 0 2>/dev/null || exit 0
fi

# The attacker's directory name, and the form every message must show it in.
FORGE=$'x\nexecguard: FORGED \e[31mred\xc2\x9b32mgreen\x9b33m'
FORGE_SHOWN='x\x0aexecguard: FORGED \x1b[31mred\xc2\x9b32mgreen\x9b33m'
FD=$T/$FORGE
FDE=$T/$FORGE_SHOWN
mkdir -p "$FD"
cp /usr/bin/true "$FD/true"
ln "$T/bin/blocked" "$FD/blocked" # the blocked marker program, by identity
chmod 755 "$FD" "$FD/true"
NB=$T/diag-nobody # the attacker's own directory, for the racer's symlink
mkdir -p "$NB"
chown nobody:nogroup "$NB"
DG=$T/diag # what the cases captured
mkdir -p "$DG"
printf '[execguard]\nmode = enforce\naction = deny\nmax_args = 5\n\n[block]\npath = %s\npath = %s\n' \
        "$DF" "$T/bin/blocked" >"$DG/max-args.ini"

AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# nv [RUN-OPTIONS...] -- CMD...: CMD supervised standalone, run as nobody; RC, OUT, ERR.
nv() {
        timeout --kill-after=5 120 "${AS_NOBODY[@]}" "$EG" run "$@" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

# mark FILE / since FILE OFFSET TEXT OUT: what FILE (a log others append to) got after the
# mark, into OUT, once TEXT is in it (or after 3 s: then the case fails on what is there).
mark() { stat -c %s "$1"; }
since() {
        local file=$1 offset=$2 text=$3 out=$4
        for _ in $(seq 150); do
                tail -c +$((offset + 1)) "$file" >"$out"
                has "$text" "$out" && return 0
                sleep 0.02
        done
        return 1
}

# clean_with FILE TEXT...: FILE has every TEXT (fixed strings), and no line that starts
# with the forged text, no ESC and no 0x9b byte (C1 CSI, alone or in UTF-8). pass or fail.
clean_with() {
        local file=$1
        shift
        if LC_ALL=C grep -q '^execguard: FORGED' "$file"; then
                fail "a forged line: $(LC_ALL=C grep -n -B1 '^execguard: FORGED' "$file" | cat -v | head -c 500)"
        elif LC_ALL=C grep -q $'\e' "$file"; then
                fail "a raw ESC: $(LC_ALL=C grep $'\e' "$file" | cat -v | head -c 500)"
        elif LC_ALL=C grep -q $'\x9b' "$file"; then
                fail "a raw 0x9b (CSI): $(LC_ALL=C grep $'\x9b' "$file" | cat -v | head -c 500)"
        else
                for text; do
                        if ! has "$text" "$file"; then
                                fail "no '$text' in: $(cat -v "$file" | head -c 700)"
                                return
                        fi
                done
                pass
        fi
}

# ---- on the process's own stderr (tell) ---------------------------------------------------

# try-exec says nothing of its own: what is on stderr is execguard's line alone.
begin "diagnostics: the stderr line of a blocked exec shows the path escaped"
nv -c "$P" -- "$H/try-exec" execve "$FD/blocked" "$NB/ran"
if [ "$RC" != 13 ] || [ -e "$NB/ran" ]; then fail "rc=$RC, want 13 (EACCES) and nothing run"
else clean_with "$ERR" "execguard: blocked $FDE/blocked"; fi

begin "diagnostics: the stderr line of an exec over a limit (refused) shows the path escaped"
# (Under max_args = 5 itself: four arguments to python3, six to the exec it makes.)
nv -c "$DG/max-args.ini" -- python3 -c 'import os, sys
try:
    os.execv(sys.argv[1], sys.argv[1:] + ["1", "2", "3", "4", "5"])
except OSError as e:
    sys.exit(e.errno)' "$FD/true"
if [ "$RC" != 13 ]; then fail "rc=$RC, want 13 (EACCES)"
else clean_with "$ERR" "execguard: refused $FDE/true (more arguments than max_args = 5)"; fi

# ---- the supervisor's log: syslog, standalone ---------------------------------------------

begin "diagnostics: 'Cannot verify the exec of' (a traced process) in syslog and on stderr, escaped"
off=$(mark "$SYSLOG")
nv -c "$P" -- "$H/try-exec" traced "$FD/true"
since "$SYSLOG" "$off" "Cannot verify the exec of '$FDE/true' by" "$DG/verify.log"
cat "$ERR" >>"$DG/verify.log"
if [ "$RC" != 13 ]; then
        fail "rc=$RC, want 13 (EACCES)"
else
        clean_with "$DG/verify.log" "Cannot verify the exec of '$FDE/true' by" \
                "execguard: cannot verify $FDE/true in a process traced by another"
fi

begin "diagnostics: 'exec of ... fails' (-v) in syslog, escaped"
off=$(mark "$SYSLOG")
nv -v -c "$P" -- "$H/try-exec" execve "$FD/missing"
since "$SYSLOG" "$off" "exec of '$FDE/missing' by" "$DG/fails.log"
if [ "$RC" != 2 ]; then fail "rc=$RC, want 2 (ENOENT)"
else clean_with "$DG/fails.log" "exec of '$FDE/missing' by"; fi

# The verification's mismatch: a symlink swapped between the check and the exec, until the
# verifier catches one (it kills the process, and says what ran instead of what).
begin "diagnostics: the mismatch warning (a racer's symlink swap) in syslog, escaped"
off=$(mark "$SYSLOG")
racer_rc=""
for round in 1 2 3 4 5; do
        nv -c "$P" -- "$H/racer" symlink "$FD/true" "$FD/blocked" "$NB/ran" 300 15 "$NB/link"
        racer_rc=$RC
        [ "$RC" = 0 ] || break
        since "$SYSLOG" "$off" "instead of the approved" "$DG/mismatch.log" && break
done
if [ -e "$NB/ran" ] || [ "$racer_rc" != 0 ]; then
        fail "the racer won or failed (rc=$racer_rc): $(cat "$OUT")"
else
        since "$SYSLOG" "$off" "instead of the approved '$FDE/true'" "$DG/mismatch.log"
        clean_with "$DG/mismatch.log" "execed '$FDE/blocked' instead of the approved '$FDE/true': killed"
fi
rm -f "$NB/link"*

# ---- run's own message, when the command cannot be executed --------------------------------

begin "diagnostics: run's 'cannot execute the command' shows the path escaped"
nv -c "$P" -- "$FD/missing"
if [ "$RC" != 127 ]; then fail "rc=$RC, want 127"
else clean_with "$ERR" "execguard: $FDE/missing: No such file or directory"; fi

# ---- check, on the administrator's terminal ------------------------------------------------

ln -s "$FD/blocked" "$NB/to-blocked"
begin "diagnostics: check names a blocked file reached through a symlink escaped"
"$EG" check -c "$P" "$NB/to-blocked" >"$OUT" 2>"$ERR"
RC=$?
cat "$ERR" >>"$OUT"
if [ "$RC" != 1 ]; then fail "rc=$RC, want 1 (blocked)"
else clean_with "$OUT" "$NB/to-blocked: blocked by $P:" " as $FDE/blocked"; fi

begin "diagnostics: check names a path it was given escaped"
"$EG" check -c "$P" "$FD/true" "$FD/missing" >"$OUT" 2>"$ERR"
RC=$?
cat "$ERR" >>"$OUT"
if [ "$RC" != 2 ]; then fail "rc=$RC, want 2 (one cannot be executed)"
else clean_with "$OUT" "$FDE/true: allowed" "$FDE/missing: cannot be executed"; fi

# ---- the daemon's own log (its stderr, the journal under systemd) ---------------------------

rm -f "$D/notify.sock"
start_notify_sink
stop_daemon
off=$(mark "$DLOG" 2>/dev/null || echo 0)
begin "diagnostics: the daemon's log says 'Cannot verify' and 'exec of ... fails' escaped"
# A traced exec cannot be verified by the ptrace check only (the kernel engine checks it).
if ! start_daemon "$T/deny-ptrace.ini" -v; then
        fail "the daemon did not start: $(tail -n 5 "$DLOG" | cat -v)"
else
        timeout --kill-after=5 60 "${AS_NOBODY[@]}" "$EG" run --socket "$SOCK" -- \
                sh -c "'$H/try-exec' traced \"\$1\"; echo traced=\$?; '$H/try-exec' execve \"\$2\"; echo missing=\$?" \
                sh "$FD/true" "$FD/missing" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        since "$DLOG" "$off" "exec of '$FDE/missing' by" "$DG/daemon.log"
        cat "$ERR" >>"$DG/daemon.log"
        if [ "$RC" != 0 ] || ! has traced=13 "$OUT" || ! has missing=2 "$OUT"; then
                fail "rc=$RC $(cat "$OUT") $(cat -v "$ERR")"
        else
                clean_with "$DG/daemon.log" "Cannot verify the exec of '$FDE/true' by" "exec of '$FDE/missing' by" \
                        "execguard: cannot verify $FDE/true in a process traced by another"
        fi
fi

begin "diagnostics: through the daemon, the stderr line of a blocked exec shows the path escaped"
timeout --kill-after=5 60 "${AS_NOBODY[@]}" "$EG" run --socket "$SOCK" -- "$H/try-exec" execve "$FD/blocked" "$NB/ran" \
        >"$OUT" 2>"$ERR" </dev/null
RC=$?
if [ "$RC" != 13 ] || [ -e "$NB/ran" ]; then fail "rc=$RC, want 13 (EACCES) and nothing run"
else clean_with "$ERR" "execguard: blocked $FDE/blocked"; fi
stop_daemon
kill "$NOTIFY_SINK" 2>/dev/null
