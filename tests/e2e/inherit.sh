# End-to-end tests, sourced by run.sh (which provides $EG, $H, $T, $DF, $P, the counters
# and the helpers; daemon-lib.sh is sourced before).
#
# Issue 22, items 2 and 3: `execguard run` changes nothing but exec control. The command
# gets the caller's signal dispositions, signal mask and file descriptors exactly as it
# would natively (each case compares the same command run natively and supervised, from
# the very same caller: tests/e2e/inherit.py), and none of execguard's own fds: above all
# no seccomp listener, with which a session process could answer its own execs.
#
# EXECGUARD_E2E_ONLY=inherit tests/e2e/run.sh EXECGUARD HELPERS runs this file alone.

IN=$T/inherit
mkdir -p "$IN"
chmod 755 "$IN"

# What a command lists of its fds: "N target", sorted; the caller's per-command stdout and
# stderr files (OUTDIR/N.out, N.err) named alike.
IN_LIST='find /proc/$$/fd -mindepth 1 -printf "%f %l\n"; :'
in_fds() { # FILE
        sed -E 's#/[0-9]+\.(out|err)$#/N.\1#' "$1" | sort -n
}

# in_compare MODE LABEL... -- CMD-PREFIX...: run "$IN_LIST" natively and under each prefix
# ("::"-separated) from one caller in MODE; sets IN_DIR. Prefix i is command i+1.
in_run() {
        local mode=$1
        shift
        IN_DIR=$IN/$mode.$RANDOM
        mkdir -p "$IN_DIR"
        timeout -k 5 120 python3 "$HERE/inherit.py" "$mode" "$IN_DIR" "$@"
}

# in_fd_verdict N: command N's fds are the native command's (command 1), it ran (status
# 0), and none is a seccomp listener.
in_fd_verdict() {
        local n=$1 st
        st=$(sed -n "${n}p" "$IN_DIR/status")
        if [ "$st" != 0 ]; then
                fail "status $st: $(head -c 300 "$IN_DIR/$n.err")"
        elif grep -q seccomp "$IN_DIR/$n.out"; then
                fail "the command holds a seccomp listener: $(grep seccomp "$IN_DIR/$n.out" | tr '\n' ';')"
        elif ! diff <(in_fds "$IN_DIR/1.out") <(in_fds "$IN_DIR/$n.out") >"$IN_DIR/diff"; then
                fail "fds differ from the native run's (< native, > supervised): $(tr '\n' ';' <"$IN_DIR/diff")"
        else
                pass
        fi
}

# The control: natively the command has the caller's fds 3 4 5 6 7 42 200 and not 9
# (close-on-exec); otherwise the comparisons below prove nothing.
in_control() { # NAME
        begin "$1"
        local got
        got=$(in_fds "$IN_DIR/1.out" | awk '$1 >= 3 && $1 != 9 { print $1 }' | grep -E '^(3|4|5|6|7|42|200)$' | tr '\n' ' ')
        if [ "$(sed -n 1p "$IN_DIR/status")" != 0 ]; then fail "the native run failed: $(cat "$IN_DIR/1.err")"
        elif [ "$got" != "3 4 5 6 7 42 200 " ]; then fail "the native command has of the caller's fds: $got"
        elif grep -q '^9 ' "$IN_DIR/1.out"; then fail "a close-on-exec fd reached the native command"
        else pass; fi
}

# in_sig_verdict N: command N's SigIgn and SigBlk are the native command's.
in_sig_verdict() {
        local n=$1 st
        st=$(sed -n "${n}p" "$IN_DIR/status")
        if [ "$st" != 0 ]; then
                fail "status $st: $(head -c 300 "$IN_DIR/$n.err")"
        elif ! diff "$IN_DIR/1.out" "$IN_DIR/$n.out" >"$IN_DIR/diff"; then
                fail "signals differ from the native run's (< native, > supervised): $(tr '\n' ';' <"$IN_DIR/diff")"
        else
                pass
        fi
}

if ! command -v python3 >/dev/null || [ "$(id -u)" != 0 ]; then
        begin "inherit"
        skip "needs root (the daemon) and python3"
        return 0 2>/dev/null || exit 0
fi

rm -f "$D/notify.sock"
start_notify_sink
IN_DAEMON=""
begin "inherit: the daemon starts"
if start_daemon "$P"; then
        IN_DAEMON=1
        pass
else
        fail "the daemon did not start: $(tail -n 3 "$DLOG")"
fi

# ---- signals ----------------------------------------------------------------------------

# in_sig_field NAME FILE: the mask NAME (SigIgn, SigBlk) of a /proc status in FILE, in hex,
# without signals 32 and 33 (glibc's own).
in_sig_field() {
        local hex
        hex=$(sed -n "s/^$1:[[:space:]]*//p" "$2")
        printf '%016x' $((0x${hex:-0} & ~0x180000000))
}

IN_STATUS=(grep -E '^Sig(Ign|Blk):' /proc/self/status)
for mode in sig sig-default; do
        if [ -n "$IN_DAEMON" ]; then
                in_run "$mode" "${IN_STATUS[@]}" :: "$EG" run -c "$P" -- "${IN_STATUS[@]}" \
                        :: "$EG" run --socket "$SOCK" -- "${IN_STATUS[@]}"
        else
                in_run "$mode" "${IN_STATUS[@]}" :: "$EG" run -c "$P" -- "${IN_STATUS[@]}"
        fi
        what="SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGRTMIN+2 ignored, SIGUSR2, SIGHUP, SIGWINCH, SIGALRM, SIGCHLD blocked"
        [ "$mode" = sig ] || what="all at their defaults, none blocked"
        begin "inherit: control: the caller's signals ($mode) reach the native command"
        # Signals 32 and 33 are glibc's own (Python cannot set them): they stay as the suite's
        # caller had them, and are compared between the runs, not here.
        ign=$(in_sig_field SigIgn "$IN_DIR/1.out")
        blk=$(in_sig_field SigBlk "$IN_DIR/1.out")
        if [ "$mode" = sig ]; then
                [ "$ign" = 0000000800381206 ] && [ "$blk" = 0000000008012801 ] && pass ||
                        fail "$(cat "$IN_DIR/1.out" "$IN_DIR/1.err")"
        else
                [ "$ign" = 0000000000000000 ] && [ "$blk" = 0000000000000000 ] && pass ||
                        fail "$(cat "$IN_DIR/1.out" "$IN_DIR/1.err")"
        fi
        begin "inherit: standalone: the command's ignored and blocked signals are the caller's ($what)"
        in_sig_verdict 2
        if [ -n "$IN_DAEMON" ]; then
                begin "inherit: through the daemon: the command's ignored and blocked signals are the caller's ($what)"
                in_sig_verdict 3
        fi
done

# A caller that ignores SIGCHLD: the kernel reaps its children itself. The command must
# find it ignored, and execguard, which waits for its children, must still learn how the
# command ended (before, run hung).
if [ -n "$IN_DAEMON" ]; then
        in_run sig-chld "${IN_STATUS[@]}" :: "$EG" run -c "$P" -- "${IN_STATUS[@]}" \
                :: "$EG" run --socket "$SOCK" -- "${IN_STATUS[@]}"
else
        in_run sig-chld "${IN_STATUS[@]}" :: "$EG" run -c "$P" -- "${IN_STATUS[@]}"
fi
begin "inherit: control: a caller's ignored SIGCHLD reaches the native command"
[ "$(in_sig_field SigIgn "$IN_DIR/1.out")" = 0000000000010000 ] && pass || fail "$(cat "$IN_DIR/1.out" "$IN_DIR/1.err")"
begin "inherit: standalone: SIGCHLD ignored by the caller: ignored in the command, and run returns its status"
in_sig_verdict 2
if [ -n "$IN_DAEMON" ]; then
        begin "inherit: through the daemon: SIGCHLD ignored by the caller: ignored in the command, and run returns its status"
        in_sig_verdict 3
fi

# A shell's trap '' is the usual way to ignore them.
IN_TRAP="trap '' INT QUIT PIPE TSTP TTIN TTOU;"
begin "inherit: trap '' INT QUIT PIPE TSTP TTIN TTOU in the caller: the same SigIgn natively, standalone and through the daemon"
native=$(bash -c "$IN_TRAP grep '^SigIgn:' /proc/self/status" </dev/null 2>&1)
alone=$(bash -c "$IN_TRAP \"\$0\" run -c \"\$1\" -- grep '^SigIgn:' /proc/self/status" "$EG" "$P" </dev/null 2>&1)
daemon=$native
[ -z "$IN_DAEMON" ] || daemon=$(bash -c "$IN_TRAP \"\$0\" run --socket \"\$1\" -- grep '^SigIgn:' /proc/self/status" "$EG" "$SOCK" </dev/null 2>&1)
if [ "$(in_sig_field SigIgn <(printf '%s\n' "$native"))" != 0000000000381006 ]; then fail "control: natively $native"
elif [ "$alone" != "$native" ]; then fail "standalone: '$alone', natively '$native'"
elif [ "$daemon" != "$native" ]; then fail "through the daemon: '$daemon', natively '$native'"
else pass; fi

# With SIGPIPE ignored, yes gets EPIPE and exits 1 instead of dying of SIGPIPE (141).
IN_YES='yes | head -1 >/dev/null; echo ${PIPESTATUS[0]}'
begin "inherit: trap '' PIPE; yes | head -1: yes exits 1 (EPIPE), natively, standalone and through the daemon"
native=$(bash -c "trap '' PIPE; bash -c '$IN_YES'" </dev/null 2>/dev/null)
alone=$(bash -c "trap '' PIPE; \"\$0\" run -c \"\$1\" -- bash -c '$IN_YES'" "$EG" "$P" </dev/null 2>/dev/null)
daemon=$native
[ -z "$IN_DAEMON" ] || daemon=$(bash -c "trap '' PIPE; \"\$0\" run --socket \"\$1\" -- bash -c '$IN_YES'" "$EG" "$SOCK" </dev/null 2>/dev/null)
if [ "$native" != 1 ]; then fail "control: natively $native"
elif [ "$alone" != 1 ]; then fail "standalone: $alone"
elif [ "$daemon" != 1 ]; then fail "through the daemon: $daemon"
else pass; fi

# ---- file descriptors -------------------------------------------------------------------

# Standalone with a log_file too: the audit's fds (the file, the syslog socket), opened
# before the supervisor and the command are forked, must not reach the command.
write_policy "$IN/log.ini" enforce deny "log_file = $IN/audit.json"
for mode in fds fds-nostdin; do
        if [ -n "$IN_DAEMON" ]; then
                in_run "$mode" sh -c "$IN_LIST" :: "$EG" run -c "$IN/log.ini" -- sh -c "$IN_LIST" \
                        :: "$EG" run --socket "$SOCK" -- sh -c "$IN_LIST"
        else
                in_run "$mode" sh -c "$IN_LIST" :: "$EG" run -c "$IN/log.ini" -- sh -c "$IN_LIST"
        fi
        what="a pipe as fds 3 and 4, a file as 5, a socket as 6, a file whose FD_CLOEXEC was cleared as 7, a pipe as 42, a file as 200"
        [ "$mode" = fds ] || what="$what, stdin closed"
        in_control "inherit: control: natively the command has the caller's fds ($what) and no close-on-exec one"
        if [ "$mode" = fds-nostdin ]; then
                begin "inherit: control: natively the command has no stdin when the caller closed it"
                grep -q '^0 ' "$IN_DIR/1.out" && fail "$(cat "$IN_DIR/1.out")" || pass
        fi
        begin "inherit: standalone (a log_file, syslog): the command's fds are the caller's, exactly as natively ($what), and no seccomp listener nor audit fd"
        if [ ! -e "$IN/audit.json" ]; then fail "control: the session did not open its log_file"
        else in_fd_verdict 2; fi
        if [ -n "$IN_DAEMON" ]; then
                begin "inherit: through the daemon: the command's fds are the caller's, exactly as natively ($what), and no seccomp listener"
                in_fd_verdict 3
        fi
done

# ---- a make jobserver -------------------------------------------------------------------
# make -j4 whose recipe runs the inner make through execguard (the '+' hands it the
# jobserver's pipe, --jobserver-auth=R,W in MAKEFLAGS). Without those fds the inner make
# warns "jobserver unavailable: using -j1" and runs its four 1 s recipes one after the other.

mkdir -p "$IN/mk/sub"
printf 'all:\n\t+$(WRAP) $(MAKE) -C sub\n' >"$IN/mk/Makefile"
printf 'all: a b c d\na b c d:\n\t@sleep 1\n' >"$IN/mk/sub/Makefile"
# in_make NAME WRAP...: the outer make -j4; sets MK_MS (elapsed) and MK_ERR.
in_make() {
        local name=$1 t0 t1
        shift
        MK_ERR=$IN/mk/$name.err
        t0=$(date +%s%N)
        timeout -k 5 60 make --no-print-directory -j4 -C "$IN/mk" WRAP="$*" >"$IN/mk/$name.out" 2>"$MK_ERR" </dev/null
        MK_RC=$?
        t1=$(date +%s%N)
        MK_MS=$(((t1 - t0) / 1000000))
}
in_make_verdict() {
        if [ "$MK_RC" != 0 ]; then fail "make failed (rc=$MK_RC): $(head -c 300 "$MK_ERR")"
        elif grep -qi jobserver "$MK_ERR"; then fail "$(grep -i jobserver "$MK_ERR" | head -n 2 | tr '\n' ';') (${MK_MS} ms)"
        elif [ "$MK_MS" -ge 3500 ]; then fail "${MK_MS} ms: the four recipes did not run in parallel"
        else pass; fi
}
if ! command -v make >/dev/null; then
        begin "inherit: make -j4 jobserver"
        skip "no make"
else
        begin "inherit: control: make -j4 runs the inner make's four 1 s recipes in parallel natively"
        in_make native
        in_make_verdict
        begin "inherit: standalone: make -j4 with execguard run around the inner make: the jobserver reaches it (no warning, recipes in parallel)"
        in_make alone "$EG" run -c "$P" --
        in_make_verdict
        if [ -n "$IN_DAEMON" ]; then
                begin "inherit: through the daemon: make -j4 with execguard run around the inner make: the jobserver reaches it"
                in_make daemon "$EG" run --socket "$SOCK" --
                in_make_verdict
        fi
fi

stop_daemon
kill "$NOTIFY_SINK" 2>/dev/null
wait "$NOTIFY_SINK" 2>/dev/null

# The caller's ignored SIGTERM is the command's, not the supervisor's: a supervisor told to
# stop stops, and the session fails closed (its next exec fails, nothing runs unjudged).
begin "inherit: a caller that ignores SIGTERM: the supervisor still stops on SIGTERM, the session fails closed"
rm -f "$T/work/ran" "$T/work/sh-ready"
(
        trap '' TERM HUP
        exec timeout -k 5 60 "$EG" run -c "$P" -- sh -c ': >"$2"; sleep 2; "$0" "$1"; echo after=$?' \
                "$T/bin/allowed" "$T/work/ran" "$T/work/sh-ready"
) >"$OUT" 2>"$ERR" &
TW=$!
# The command runs (its shell is there) before the supervisor is told to stop.
for _ in $(seq 500); do [ -e "$T/work/sh-ready" ] && break; sleep 0.02; done
sup=""
# Ours: timeout's child is the wrapper, whose child the supervisor is.
for _ in $(seq 100); do
        wrapper=$(pgrep -P "$TW" | head -n 1)
        [ -n "$wrapper" ] && sup=$(pgrep -P "$wrapper" -x execguard-sup) && break
        sleep 0.02
done
[ -n "$sup" ] && kill -TERM "$sup"
wait "$TW"
if [ -n "$sup" ] && [ ! -e "$T/work/ran" ] && has "after=" "$OUT" && ! has "after=0" "$OUT"; then
        pass
else
        fail "supervisor ${sup:-not found}: $(cat "$OUT") $(head -c 300 "$ERR")"
fi
