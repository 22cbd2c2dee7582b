# End-to-end tests of the policy language of issue 6 (execguard.ini(5)): default = deny,
# trusted_path, command rules and the race on the arguments, parent rules, hours and days,
# and what `execguard check` says of each; then the same through the daemon. Sourced by
# run.sh after limits.sh (run.sh provides $EG, $H, $T, $SYSLOG, sv, has and the counters;
# daemon-lib.sh the daemon's fixtures).
#
# EXECGUARD_E2E_ONLY=policy tests/e2e/run.sh EXECGUARD HELPERS runs this file alone.
#
# Every refusal here is an attack that goes through if its defence is removed: the marker
# program leaves a file when it runs, argv-record writes down the arguments it ran with.
# Each is paired with the same thing allowed, so a supervisor refusing everything fails too.

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
        begin "policy tests"
        skip "need root, setpriv and the user nobody"
        return 0 2>/dev/null || exit 0
fi

PD=$T/policy
PB=$PD/bin
mkdir -p "$PB" "$PD/tree/sub" "$PD/elsewhere" "$PD/web" "$PD/fake" "$PD/w"
chmod 755 "$PD" "$PB" "$PD/tree" "$PD/tree/sub" "$PD/elsewhere" "$PD/web" "$PD/fake"
chmod 1777 "$PD/w" # what the programs leave behind, as root or as nobody
RAN=$PD/w/ran
PLD=$(readlink -f /lib64/ld-linux-x86-64.so.2)
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# variant N FILE: the marker program made different by one byte (N), so that neither its
# content nor its size is that of another variant: each is allowed or blocked on its own.
variant() {
        { cat "$H/marker"; printf "\\$(printf %03o "$1")"; } >"$2"
        chmod 755 "$2"
}
cp "$H/marker" "$PB/listed"
variant 1 "$PB/glob-one"
variant 2 "$PD/tree/sub/deep"
variant 3 "$PD/elsewhere/hashed"
variant 4 "$PB/nobody-only"
variant 5 "$PB/unlisted"
variant 6 "$PB/renamed-modified" # a copy of listed, renamed, one byte added
cp "$PB/listed" "$PB/renamed"    # a copy of listed, renamed only
variant 7 "$PB/office"
variant 8 "$PB/night"

# line_of FILE TEXT: the number of the line of FILE that is TEXT.
line_of() { grep -nxF -- "$2" "$1" | head -n 1 | cut -d: -f1; }

# expect NAME WANT POLICY CMD...: CMD supervised under POLICY. WANT is "runs" (exit 0, the
# marker appears) or the exit status of a refusal (the marker must not appear), optionally
# with ":PATH", the file the refusal must name ("execguard: blocked PATH").
expect() {
        local name=$1 want=$2 policy=$3
        shift 3
        begin "policy: $name"
        rm -f "$RAN"
        sv "$policy" "$@"
        local marker=absent
        [ -e "$RAN" ] && marker=present
        if [ "$want" = runs ]; then
                [ "$RC" = 0 ] && [ $marker = present ] && pass || fail "rc=$RC, marker $marker: $(head -c 400 "$ERR")"
        elif [ "$RC" != "${want%%:*}" ] || [ $marker = present ]; then
                fail "rc=$RC (want ${want%%:*}), marker $marker: $(head -c 400 "$ERR")"
        elif [ "${want#*:}" != "$want" ] && ! has "execguard: blocked ${want#*:}" "$ERR"; then
                fail "no 'execguard: blocked ${want#*:}' line: $(head -c 400 "$ERR")"
        else
                pass
        fi
}

# says NAME WANT-LINE CHECK-ARGS...: `execguard check CHECK-ARGS` prints exactly WANT-LINE.
says() {
        local name=$1 want=$2
        shift 2
        begin "policy: check: $name"
        "$EG" check "$@" >"$OUT" 2>"$ERR" </dev/null
        [ "$(cat "$OUT")" = "$want" ] && pass || fail "got '$(cat "$OUT")' $(head -c 200 "$ERR"); want '$want'"
}

# ---- allowlist: default = deny ----------------------------------------------------------

A=$PD/allow.ini
HASHED=$(sha256sum "$PD/elsewhere/hashed" | cut -d' ' -f1)
cat >"$A" <<EOF
[execguard]
default = deny
[allow]
path = $PLD
path = /usr/bin/dash
path = /usr/bin/setpriv
path = $H/try-exec
path = $PB/listed
path = $PB/glob-*
dir = $PD/tree
hash = sha256:$HASHED
[user:nobody]
allow = $PB/nobody-only
EOF
# The same without the loader (the ELF interpreter of every dynamic program), and the same
# with default = allow.
grep -vxF "path = $PLD" "$A" >"$PD/allow-no-ld.ini"
sed 's/^default = deny$/default = allow/' "$A" >"$PD/allow-open.ini"

printf '#!/bin/bash\n: >"$1"\n' >"$PD/tree/bash-script"   # allowed file, interpreter not
printf '#!/bin/sh\n: >"$1"\n' >"$PD/tree/sh-script"       # both allowed
printf '#!/bin/sh\n: >"$1"\n' >"$PB/unlisted-script"      # interpreter allowed, file not
chmod 755 "$PD/tree/bash-script" "$PD/tree/sh-script" "$PB/unlisted-script"

expect "default = deny: an unlisted program is refused (EACCES, 126)" 126:"$PB/unlisted" "$A" "$PB/unlisted" "$RAN"
begin "policy: default = deny: execve() of it fails with EACCES"
sv "$A" "$H/try-exec" execve "$PB/unlisted" "$RAN"
[ "$RC" = 13 ] && [ ! -e "$RAN" ] && pass || fail "rc=$RC"
expect "default = deny: a program allowed by path runs" runs "$A" "$PB/listed" "$RAN"
expect "default = deny: a program allowed by a glob runs" runs "$A" "$PB/glob-one" "$RAN"
expect "default = deny: a program under an allowed dir = tree runs" runs "$A" "$PD/tree/sub/deep" "$RAN"
expect "default = deny: a program allowed by hash = runs, under any name" runs "$A" "$PD/elsewhere/hashed" "$RAN"
expect "default = deny: [user:nobody] allow = lets nobody run it" runs "$A" $AS_NOBODY "$PB/nobody-only" "$RAN"
expect "default = deny: ... and not root" 126:"$PB/nobody-only" "$A" "$PB/nobody-only" "$RAN"
expect "default = deny: nobody is refused what nobody's scope does not allow" 126:"$PB/unlisted" "$A" \
        $AS_NOBODY "$PB/unlisted" "$RAN"
expect "default = deny: a renamed copy of an allowed program runs (same content)" runs "$A" "$PB/renamed" "$RAN"
expect "default = deny: a renamed and modified copy is refused" 126:"$PB/renamed-modified" "$A" \
        "$PB/renamed-modified" "$RAN"
expect "default = deny: a #! script allowed, its interpreter (bash) not: refused" 126:/usr/bin/bash "$A" \
        "$PD/tree/bash-script" "$RAN"
expect "default = deny: a #! script not allowed, its interpreter (sh) allowed: refused" 126:"$PB/unlisted-script" \
        "$A" "$PB/unlisted-script" "$RAN"
expect "default = deny: a #! script and its interpreter both allowed: runs" runs "$A" "$PD/tree/sh-script" "$RAN"
expect "default = deny: the loader as a command, its program not allowed: refused" 126:"$PB/unlisted" "$A" \
        /lib64/ld-linux-x86-64.so.2 "$PB/unlisted" "$RAN"
expect "default = deny: ... with --argv0 before the program: refused" 126:"$PB/unlisted" "$A" \
        "$PLD" --argv0 listed "$PB/unlisted" "$RAN"
expect "default = deny: the loader as a command, its program allowed: runs" runs "$A" \
        /lib64/ld-linux-x86-64.so.2 "$PB/listed" "$RAN"
expect "default = deny: a program whose ELF interpreter is not allowed: refused" 126:"$PLD" "$PD/allow-no-ld.ini" \
        "$PB/listed" "$RAN"
expect "default = allow: an unlisted program runs (the old behaviour)" runs "$PD/allow-open.ini" "$PB/unlisted" "$RAN"
printf '[execguard]\nmode = enforce\n' >"$PD/none.ini"
expect "no default at all: an unlisted program runs" runs "$PD/none.ini" "$PB/unlisted" "$RAN"

L_LISTED=$(line_of "$A" "path = $PB/listed")
says "default = deny names the default and the file no rule allows" \
        "$PB/unlisted: blocked by $A:2 (default = deny): no allow rule matches $PB/unlisted" -c "$A" "$PB/unlisted"
says "allowed by path, in [allow]" "$PB/listed: allowed by $A:$L_LISTED (path = $PB/listed) in [allow]" \
        -c "$A" "$PB/listed"
says "allowed by a glob" "$PB/glob-one: allowed by $A:$(line_of "$A" "path = $PB/glob-*") (path = $PB/glob-*) in [allow]" \
        -c "$A" "$PB/glob-one"
says "allowed by dir =" "$PD/tree/sub/deep: allowed by $A:$(line_of "$A" "dir = $PD/tree") (dir = $PD/tree) in [allow]" \
        -c "$A" "$PD/tree/sub/deep"
says "allowed by hash =" \
        "$PD/elsewhere/hashed: allowed by $A:$(line_of "$A" "hash = sha256:$HASHED") (hash = sha256:$HASHED) in [allow]" \
        -c "$A" "$PD/elsewhere/hashed"
says "a renamed copy: allowed by the rule of the original (content)" \
        "$PB/renamed: allowed by $A:$L_LISTED (path = $PB/listed) in [allow]" -c "$A" "$PB/renamed"
says "--user nobody: the scoped allow, and its scope" \
        "$PB/nobody-only: allowed by $A:$(line_of "$A" "allow = $PB/nobody-only") (allow = $PB/nobody-only) in [user:nobody] [user nobody]" \
        -c "$A" --user nobody "$PB/nobody-only"
says "the same file for root: default = deny" \
        "$PB/nobody-only: blocked by $A:2 (default = deny): no allow rule matches $PB/nobody-only" -c "$A" "$PB/nobody-only"
says "the #! interpreter not allowed" \
        "$PD/tree/bash-script: blocked by $A:2 (default = deny) as #! interpreter /usr/bin/bash: no allow rule matches /usr/bin/bash" \
        -c "$A" "$PD/tree/bash-script"
says "the script itself not allowed" \
        "$PB/unlisted-script: blocked by $A:2 (default = deny): no allow rule matches $PB/unlisted-script" \
        -c "$A" "$PB/unlisted-script"
says "the program of the dynamic loader not allowed" \
        "/lib64/ld-linux-x86-64.so.2: blocked by $A:2 (default = deny) as the program of the dynamic loader, $PB/unlisted: no allow rule matches $PB/unlisted" \
        -c "$A" --argv "ld.so $PB/unlisted" /lib64/ld-linux-x86-64.so.2
says "the ELF interpreter not allowed" \
        "$PB/listed: blocked by $PD/allow-no-ld.ini:2 (default = deny) as ELF interpreter $PLD: no allow rule matches $PLD" \
        -c "$PD/allow-no-ld.ini" "$PB/listed"
says "default = allow: why the unlisted program runs" "$PB/unlisted: allowed (no rule matches; default = allow)" \
        -c "$PD/allow-open.ini" "$PB/unlisted"

# ---- trusted path execution ---------------------------------------------------------------
# The suite's own directory is under /tmp (mode 1777), which fails every file in it. The
# cases below need a tree whose every level but the one under test is trusted: a tmpfs on
# /srv, in the suite's private mount namespace, so that it is the level under test alone
# that refuses (remove that check and the program runs).

if [ -n "${EXECGUARD_E2E_NS:-}" ] && [ -d /srv ] && [ "$(stat -c %u%a /)" = 0755 ] &&
        mount -t tmpfs -o mode=755 execguard-e2e /srv; then
        TP=/srv
        mkdir -p "$TP/bin" "$TP/userdir" "$TP/ww" "$TP/sticky" "$TP/grp" "$TP/noexec"
        chmod 755 "$TP/bin" "$TP/userdir" "$TP/noexec"
        chown nobody "$TP/userdir"
        chmod 0777 "$TP/ww"
        chmod 1777 "$TP/sticky"
        chmod 0775 "$TP/grp"
        for d in bin userdir ww sticky grp; do cp "$H/marker" "$TP/$d/prog"; done
        cp "$H/marker" "$TP/bin/nobody-owned"
        chown nobody "$TP/bin/nobody-owned"
        cp "$H/fileless-exec" "$TP/bin/fileless-exec"
        chmod 755 "$TP"/*/prog "$TP/bin/nobody-owned" "$TP/bin/fileless-exec"
        TPI=$PD/trusted.ini
        printf '[execguard]\ntrusted_path = yes\n[user:nobody]\ntrusted_path_exempt = %s/\n' "$TP/userdir" >"$TPI"

        expect "trusted_path: a program in a directory owned by a user is refused" 126:"$TP/userdir/prog" "$TPI" \
                "$TP/userdir/prog" "$RAN"
        expect "trusted_path: a program in a world-writable directory (0777) is refused" 126:"$TP/ww/prog" "$TPI" \
                "$TP/ww/prog" "$RAN"
        expect "trusted_path: a program in a sticky world-writable directory (1777) is refused" \
                126:"$TP/sticky/prog" "$TPI" "$TP/sticky/prog" "$RAN"
        expect "trusted_path: a program in a group-writable directory is refused" 126:"$TP/grp/prog" "$TPI" \
                "$TP/grp/prog" "$RAN"
        expect "trusted_path: a program owned by a user, in a trusted directory, is refused" \
                126:"$TP/bin/nobody-owned" "$TPI" "$TP/bin/nobody-owned" "$RAN"
        expect "trusted_path: the same program in a root-owned 0755 directory runs" runs "$TPI" "$TP/bin/prog" "$RAN"
        expect "trusted_path: ... and so does a root program run by nobody" runs "$TPI" $AS_NOBODY "$TP/bin/prog" "$RAN"
        expect "trusted_path: [user:nobody] trusted_path_exempt = DIR/ lets nobody run the user's program" runs \
                "$TPI" $AS_NOBODY "$TP/userdir/prog" "$RAN"
        expect "trusted_path: ... and not the world-writable one" 126:"$TP/ww/prog" "$TPI" \
                $AS_NOBODY "$TP/ww/prog" "$RAN"
        expect "trusted_path: a memfd exec is refused (no directory at all)" 13 "$TPI" \
                "$TP/bin/fileless-exec" memfd "$TP/bin/prog" "$RAN"
        expect "trusted_path: a deleted file exec'd through /proc/self/fd is refused" 13 "$TPI" \
                "$TP/bin/fileless-exec" deleted "$TP/bin/prog" "$RAN"
        expect "trusted_path = no: the same memfd exec runs" runs "$PD/none.ini" \
                "$TP/bin/fileless-exec" memfd "$TP/bin/prog" "$RAN"

        says "a directory owned by a user" \
                "$TP/userdir/prog: blocked by $TPI:2 (trusted_path = yes): $TP/userdir is owned by uid 65534, not root" \
                -c "$TPI" "$TP/userdir/prog"
        says "a world-writable directory" \
                "$TP/ww/prog: blocked by $TPI:2 (trusted_path = yes): $TP/ww is writable by others (mode 0777)" \
                -c "$TPI" "$TP/ww/prog"
        says "a sticky world-writable directory" \
                "$TP/sticky/prog: blocked by $TPI:2 (trusted_path = yes): $TP/sticky is writable by others (mode 1777)" \
                -c "$TPI" "$TP/sticky/prog"
        says "a group-writable directory" \
                "$TP/grp/prog: blocked by $TPI:2 (trusted_path = yes): $TP/grp is writable by its group (mode 0775)" \
                -c "$TPI" "$TP/grp/prog"
        says "a trusted path" "$TP/bin/prog: allowed (no rule matches; default = allow)" -c "$TPI" "$TP/bin/prog"
        says "exempt for nobody" "$TP/userdir/prog: allowed (no rule matches; default = allow) [user nobody]" \
                -c "$TPI" --user nobody "$TP/userdir/prog"

        # noexec: a program on it cannot be exec'd, but the loader maps a program and the
        # kernel opens a #! interpreter by themselves. Both are refused by execguard before
        # the exec (its own line says so); the kernel would refuse the mapping later too.
        if mount -t tmpfs -o noexec,mode=755 execguard-e2e-noexec "$TP/noexec"; then
                cp "$H/marker" "$TP/noexec/prog"
                chmod 755 "$TP/noexec/prog"
                printf '#!%s\n' "$TP/noexec/prog" >"$TP/bin/noexec-interp"
                chmod 755 "$TP/bin/noexec-interp"
                expect "trusted_path: the loader running a program on a noexec mount is refused" \
                        126:"$TP/noexec/prog" "$TPI" "$PLD" "$TP/noexec/prog" "$RAN"
                # The kernel refuses a #! interpreter on a noexec mount by itself: execguard
                # answers as it would (EACCES), without reading the interpreter.
                begin "policy: trusted_path: a #! interpreter on a noexec mount fails as natively (EACCES), never runs"
                rm -f "$RAN"
                native=$("$TP/bin/noexec-interp" "$RAN" 2>&1; echo "rc=$?")
                sv "$TPI" "$TP/bin/noexec-interp" "$RAN"
                if [ "$RC" = 126 ] && [ ! -e "$RAN" ] && [ "${native##*rc=}" = 126 ] && has "Permission denied" "$ERR"; then
                        pass
                else
                        fail "rc=$RC, natively ${native##*rc=}: $(head -c 400 "$ERR")"
                fi
                says "the program of the loader on a noexec mount" \
                        "$PLD: blocked by $TPI:2 (trusted_path = yes) as the program of the dynamic loader, $TP/noexec/prog: $TP/noexec/prog is on a file system mounted noexec" \
                        -c "$TPI" --argv "ld.so $TP/noexec/prog" "$PLD"
                says "a #! interpreter on a noexec mount" \
                        "$TP/bin/noexec-interp: cannot be executed: Permission denied" \
                        -c "$TPI" "$TP/bin/noexec-interp"
        else
                begin "policy: trusted_path on a noexec mount"
                skip "cannot mount a tmpfs noexec"
        fi
else
        begin "policy: trusted_path"
        skip "needs the suite's private mount namespace (root), a trusted / and /srv to mount a tmpfs on"
fi

# ---- command rules --------------------------------------------------------------------------

CTL=$PB/ctl # stands for systemctl: it writes the arguments it ran with to $ARGV_RECORD
cp "$H/argv-record" "$CTL"
cp "$CTL" "$PD/elsewhere/ctl-copy"
ln "$CTL" "$PB/ctl-link"
ln -s ctl "$PB/ctl-sym"
export ARGV_RECORD=$PD/w/record
C=$PD/command.ini
cat >"$C" <<EOF
[block]
command = $CTL stop execguard*
command = $CTL kill *
command = $CTL * --force
command = $CTL --eval *
EOF
printf '#!%s --eval\n' "$CTL" >"$PB/eval-script" # the rule is on its interpreter's arguments
printf '#!%s --print\n' "$CTL" >"$PB/print-script"
chmod 755 "$PB/eval-script" "$PB/print-script"

# ran_with NAME WANT POLICY CMD...: CMD under POLICY, where CMD runs argv-record. WANT is
# "refused" (126, nothing recorded) or the line it must record.
ran_with() {
        local name=$1 want=$2 policy=$3
        shift 3
        begin "policy: $name"
        rm -f "$ARGV_RECORD"
        sv "$policy" "$@"
        local got
        got=$(cat "$ARGV_RECORD" 2>/dev/null)
        if [ "$want" = refused ]; then
                [ "$RC" = 126 ] && [ -z "$got" ] && pass || fail "rc=$RC, ran with '$got': $(head -c 300 "$ERR")"
        else
                [ "$RC" = 0 ] && [ "$got" = "$want" ] && pass || fail "rc=$RC, recorded '$got': $(head -c 300 "$ERR")"
        fi
}
ran_with "command: the blocked argv is refused" refused "$C" "$CTL" stop execguard.service
ran_with "command: a glob per argument" refused "$C" "$CTL" stop execguard
ran_with "command: without a last '*' the count is exact (one more runs)" "stop execguard.service now" \
        "$C" "$CTL" stop execguard.service now
ran_with "command: another argument runs" "stop nginx" "$C" "$CTL" stop nginx
ran_with "command: another first argument runs" "status execguard" "$C" "$CTL" status execguard
ran_with "command: a last lone '*' matches no more arguments" refused "$C" "$CTL" kill
ran_with "command: ... and any number of them" refused "$C" "$CTL" kill -9 1 2 3
ran_with "command: a lone '*' elsewhere matches exactly one argument" refused "$C" "$CTL" now --force
ran_with "command: ... not none" "--force" "$C" "$CTL" --force
ran_with "command: ... not two" "a b --force" "$C" "$CTL" a b --force
ran_with "command: argv[0] is not judged (exec -a)" refused "$C" bash -c "exec -a systemctl $CTL stop execguard"
ran_with "command: a copy of the program is refused the argv" refused "$C" "$PD/elsewhere/ctl-copy" stop execguard
ran_with "command: a hard link of it is refused the argv" refused "$C" "$PB/ctl-link" stop execguard
ran_with "command: a symlink to it is refused the argv" refused "$C" "$PB/ctl-sym" stop execguard
ran_with "command: the loader running it with the argv is refused" refused "$C" "$PLD" "$CTL" stop execguard
ran_with "command: a rule on a #! interpreter's arguments refuses the script" refused "$C" "$PB/eval-script" x
ran_with "command: another #! line runs" "--print $PB/print-script x" "$C" "$PB/print-script" x

L_STOP=$(line_of "$C" "command = $CTL stop execguard*")
says "the blocked argv" "$CTL: blocked by $C:$L_STOP (command = $CTL stop execguard*)" \
        -c "$C" --argv 'systemctl stop execguard.service' "$CTL"
says "one argument more" "$CTL: allowed (no rule matches; default = allow)" \
        -c "$C" --argv 'systemctl stop execguard.service now' "$CTL"
says "quoted words of --argv" "$CTL: blocked by $C:$(line_of "$C" "command = $CTL kill *") (command = $CTL kill *)" \
        -c "$C" --argv "systemctl kill 'a b' \"c d\"" "$CTL"
says "a symlink" "$PB/ctl-sym: blocked by $C:$L_STOP (command = $CTL stop execguard*) as $CTL" \
        -c "$C" --argv 'x stop execguard' "$PB/ctl-sym"
says "a #! interpreter" \
        "$PB/eval-script: blocked by $C:$(line_of "$C" "command = $CTL --eval *") (command = $CTL --eval *) as #! interpreter $CTL" \
        -c "$C" "$PB/eval-script"
says "the program of the loader" \
        "$PLD: blocked by $C:$L_STOP (command = $CTL stop execguard*) as the program of the dynamic loader, $CTL" \
        -c "$C" --argv "ld.so $CTL stop execguard" "$PLD"

# Allowed argvs under default = deny: [allow] command = and [block] allow_command =.
AC=$PD/allow-command.ini
cat >"$AC" <<EOF
[execguard]
default = deny
[allow]
path = $PLD
command = $CTL status *
[block]
allow_command = $CTL show ?*
EOF
ran_with "allow_command: [allow] command = lets the listed argv run" "status execguard" "$AC" "$CTL" status execguard
ran_with "allow_command: ... a last '*' with no more arguments" "status" "$AC" "$CTL" status
ran_with "allow_command: [block] allow_command = lets its argv run" "show x" "$AC" "$CTL" show x
ran_with "allow_command: an argv no rule allows is refused" refused "$AC" "$CTL" stop execguard
ran_with "allow_command: the program with no arguments is refused" refused "$AC" "$CTL"
ran_with "allow_command: an argument glob ('?*') refuses an empty argument" refused "$AC" "$CTL" show ""
says "allowed by [allow] command =" "$CTL: allowed by $AC:$(line_of "$AC" "command = $CTL status *") (command = $CTL status *) in [allow]" \
        -c "$AC" --argv 'ctl status x' "$CTL"
says "allowed by allow_command =" "$CTL: allowed by $AC:$(line_of "$AC" "allow_command = $CTL show ?*") (allow_command = $CTL show ?*)" \
        -c "$AC" --argv 'ctl show x' "$CTL"
says "an argv no rule allows" "$CTL: blocked by $AC:2 (default = deny): no allow rule matches $CTL" \
        -c "$AC" --argv 'ctl stop x' "$CTL"

# ---- the race on the arguments --------------------------------------------------------------
# argv-racer execs `ctl WORD execguard.service` while another thread flips WORD between
# "show" (allowed) and "stop" (blocked). The supervisor reads the arguments when it judges;
# the kernel copies them afterwards. Read "show", copied "stop": only the verification at
# PTRACE_EVENT_EXEC (the new program's /proc/PID/cmdline against what was judged) stands
# between the racer and `ctl stop execguard.service` running. Without it, each attempt it
# kills would have run with "stop": that is what the baseline and audit runs count.

RACE_N=600
RACE_S=40
RA=$PD/race-audit.ini
{ printf '[execguard]\nmode = audit\n'; cat "$C"; } >"$RA"
stops() { grep -c '^stop ' "$ARGV_RECORD" 2>/dev/null; }

# Unsupervised, for the record only: the exec follows the flipping thread's start so
# closely that few attempts see a flip at all (a handful in 600 here); a supervisor's
# round trip gives the flips time, hence the audit run is the test.
rm -f "$ARGV_RECORD"
"$H/argv-racer" "$CTL" show stop $RACE_N $RACE_S execguard.service >"$OUT" 2>&1
printf '     unsupervised: %s; ran with stop: %s\n' "$(cat "$OUT")" "$(stops)"

begin "policy: argv racer, mode = audit: programs run with the blocked argv (the race is there)"
rm -f "$ARGV_RECORD"
sv "$RA" "$H/argv-racer" "$CTL" show stop $RACE_N $RACE_S execguard.service
AUDIT_STOPS=$(stops)
[ "$RC" = 0 ] && [ "${AUDIT_STOPS:-0}" -gt 0 ] && pass || fail "rc=$RC $(cat "$OUT") stops=$AUDIT_STOPS"
printf '     %s; ran with stop: %s\n' "$(cat "$OUT")" "$AUDIT_STOPS"

# race_check LOG-FILE: after a racer run in $OUT: never ran with "stop", some attempts
# killed by the verification and logged so (LOG-FILE, unless empty), others allowed and
# refused (the race was run both ways).
race_check() {
        local tally killed denied ran
        tally=$(cat "$OUT")
        killed=$(sed -n 's/.* killed=\([0-9]*\).*/\1/p' "$OUT")
        denied=$(sed -n 's/.* denied=\([0-9]*\).*/\1/p' "$OUT")
        ran=$(sed -n 's/.* ran=\([0-9]*\).*/\1/p' "$OUT")
        if [ "$RC" != 0 ] || [ -z "$killed" ]; then fail "rc=$RC $tally $(head -c 300 "$ERR")"
        elif [ "$(stops)" != 0 ]; then fail "ran with the blocked argv $(stops) times: $tally"
        elif [ "$killed" = 0 ]; then fail "no attempt killed: the race was not run ($tally)"
        elif [ "$denied" = 0 ] || [ "$ran" = 0 ]; then fail "$tally"
        elif [ -n "$1" ] && ! grep -q "execed '$CTL, with other arguments than those judged' instead of the approved '$CTL': killed" "$1"; then
                fail "no 'other arguments than those judged' line in $1: $(grep -c . "$1") lines"
        else
                pass
                printf '     %s\n' "$tally"
        fi
}

# race_run LOG-FILE RUNNER ARGS...: the racer until it has run the race both ways (killed,
# refused and allowed attempts; three tries at most, for a slow build such as ASan's, whose
# timing may miss it), then race_check. A try that ran the blocked argv ends it at once:
# that is a failure, never retried away.
race_run() {
        local log=$1 k d r
        shift
        for _ in 1 2 3; do
                rm -f "$ARGV_RECORD"
                "$@"
                sleep 0.2
                [ "$(stops)" = 0 ] || break
                k=$(sed -n 's/.* killed=\([0-9]*\).*/\1/p' "$OUT")
                d=$(sed -n 's/.* denied=\([0-9]*\).*/\1/p' "$OUT")
                r=$(sed -n 's/.* ran=\([0-9]*\).*/\1/p' "$OUT")
                [ "${k:-0}" -gt 0 ] && [ "${d:-0}" -gt 0 ] && [ "${r:-0}" -gt 0 ] && break
        done
        race_check "$log"
}

begin "policy: argv racer, enforced: never runs with the blocked argv; the verifier kills the swaps ($RACE_N attempts)"
race_run "$SYSLOG" sv "$C" "$H/argv-racer" "$CTL" show stop $RACE_N $RACE_S execguard.service

begin "policy: argv racer exec'ing from a second thread, the leader alive: never the blocked argv (200 attempts)"
# The de_thread() trap: the exec'ing thread is not the leader, and two other threads live.
race_run "" sv "$C" "$H/argv-racer" --from-thread "$CTL" show stop 200 $RACE_S execguard.service

# ---- parent rules ---------------------------------------------------------------------------

cp /usr/bin/env "$PD/web/nginx" # the web server: it execs what it is told to
ln -s nginx "$PD/web/env"       # the same program, exec'd under the name "env" (its comm)
ln -s /usr/bin/env "$PD/fake/nginx" # another program, exec'd under the name "nginx"
PP=$PD/parent.ini
printf '[block]\nparent = %s\npath = /usr/bin/*sh\n' "$PD/web/nginx" >"$PP"
expect "parent: a shell started by the web server is refused" 126:/usr/bin/dash "$PP" \
        "$PD/web/nginx" /bin/sh -c ": >$RAN"
expect "parent: ... bash too (the glob)" 126:/usr/bin/bash "$PP" "$PD/web/nginx" /bin/bash -c ": >$RAN"
# /usr/bin/env has the web server's very bytes: parent = is the file, not its content.
expect "parent: the same shell started by another program runs" runs "$PP" /usr/bin/env /bin/sh -c ": >$RAN"
# The comm of a process is the name of the file it exec'd, here the symlink's ("env"), and
# argv[0] is what the exec'ing process says: neither changes what /proc/PID/exe is.
expect "parent: the web server under another comm and argv[0] is still the web server" 126:/usr/bin/dash "$PP" \
        bash -c "exec -a /usr/bin/env $PD/web/env /bin/sh -c ': >$RAN'"
expect "parent: another program under the comm and argv[0] of the web server runs" runs "$PP" \
        bash -c "exec -a nginx $PD/fake/nginx /bin/sh -c ': >$RAN'"
says "--parent: the web server" "/bin/sh: blocked by $PP:3 (path = /usr/bin/*sh) as /usr/bin/dash" \
        -c "$PP" --parent "$PD/web/nginx" /bin/sh
says "--parent: another program" "/bin/sh: allowed (no rule matches; default = allow)" -c "$PP" --parent /usr/bin/env /bin/sh
says "no --parent: no parent = matches" "/bin/sh: allowed (no rule matches; default = allow)" -c "$PP" /bin/sh

# ---- time windows -----------------------------------------------------------------------------

TW=$PD/time.ini
cat >"$TW" <<EOF
[block]
hours = 09:00-18:00
days = mon-fri
path = $PB/office
[block]
hours = 22:00-06:00
path = $PB/night
EOF
CLOCK=$PD/clock
set_clock() { printf '%s\n' "$1" >"$CLOCK"; }
set_clock "2026-11-23 10:00"
chmod 644 "$CLOCK"
# at WHEN NAME WANT PROGRAM: PROGRAM under the time policy, the test clock at WHEN.
at() {
        set_clock "$1"
        EXECGUARD_TEST_CLOCK=$CLOCK expect "hours/days: $2 ($1)" "$3" "$TW" "$4" "$RAN"
}
at "2026-11-23 10:00" "Monday within 09:00-18:00: refused" 126:"$PB/office" "$PB/office"
at "2026-11-23 09:00" "the start of the window is in it" 126:"$PB/office" "$PB/office"
at "2026-11-27 17:59" "Friday, the last minute" 126:"$PB/office" "$PB/office"
at "2026-11-23 18:00" "the end of the window is out of it" runs "$PB/office"
at "2026-11-23 08:59" "before the window" runs "$PB/office"
at "2026-11-28 10:00" "Saturday, within the hours" runs "$PB/office"
at "2026-11-23 23:30" "across midnight: before it" 126:"$PB/night" "$PB/night"
at "2026-11-24 05:59" "across midnight: after it" 126:"$PB/night" "$PB/night"
at "2026-11-24 06:00" "across midnight: its end" runs "$PB/night"
at "2026-11-24 21:59" "across midnight: the minute before" runs "$PB/night"
at "2026-11-24 12:00" "the other section's window has no bearing" runs "$PB/night"

set_clock "2026-11-23 10:00"
begin "policy: hours/days: the clock changed within a session changes the next decision"
EXECGUARD_TEST_CLOCK=$CLOCK sv "$TW" sh -c "$PB/office $RAN.1; echo first=\$?
        printf '2026-11-23 19:00\n' >$CLOCK; $PB/office $RAN.2; echo second=\$?"
has first=126 "$OUT" && has second=0 "$OUT" && [ ! -e "$RAN.1" ] && [ -e "$RAN.2" ] && pass ||
        fail "$(cat "$OUT") $(head -c 300 "$ERR")"

set_clock "2026-11-23 12:00" # outside the night window: would run
chmod 666 "$CLOCK"
CLOCK_OPEN=$CLOCK
EXECGUARD_TEST_CLOCK=$CLOCK_OPEN expect "hours/days: a clock file writable by others refuses execs (fail closed)" 126 \
        "$TW" "$PB/night" "$RAN"
chmod 644 "$CLOCK"
chown nobody "$CLOCK"
EXECGUARD_TEST_CLOCK=$CLOCK expect "hours/days: a clock file owned by another user refuses execs" 126 \
        "$TW" "$PB/night" "$RAN"
chown root "$CLOCK"
EXECGUARD_TEST_CLOCK=$CLOCK expect "hours/days: the clock file made safe again, the exec runs" runs "$TW" "$PB/night" "$RAN"

says "--time within the window" "$PB/office: blocked by $TW:4 (path = $PB/office)" \
        -c "$TW" --time '2026-11-23 10:00' "$PB/office"
says "--time outside it" "$PB/office: allowed (no rule matches; default = allow)" \
        -c "$TW" --time '2026-11-28 10:00' "$PB/office"
says "--time across midnight" "$PB/night: blocked by $TW:7 (path = $PB/night)" \
        -c "$TW" --time '2026-11-24 02:00' "$PB/night"
set_clock "2026-11-23 10:00"
begin "policy: check: the test clock, without --time"
EXECGUARD_TEST_CLOCK=$CLOCK "$EG" check -c "$TW" "$PB/office" >"$OUT" 2>&1
[ "$(cat "$OUT")" = "$PB/office: blocked by $TW:4 (path = $PB/office)" ] && pass || fail "$(cat "$OUT")"
says "--user with --time" "$PB/office: blocked by $TW:4 (path = $PB/office) [user nobody]" \
        -c "$TW" --user nobody --time '2026-11-23 10:00' "$PB/office"

# ---- through the daemon -----------------------------------------------------------------------

DP=$PD/daemon.ini
cat >"$DP" <<EOF
[execguard]
default = deny
[allow]
path = $PLD
path = $PB/listed
path = $CTL
path = $H/argv-racer
[block]
command = $CTL stop execguard*
EOF
# dexpect NAME WANT CMD...: expect(), through the daemon.
dexpect() {
        local name=$1 want=$2
        shift 2
        begin "policy: daemon: $name"
        rm -f "$RAN"
        dv "$@"
        if [ "$want" = runs ]; then
                [ "$RC" = 0 ] && [ -e "$RAN" ] && pass || fail "rc=$RC $(head -c 300 "$ERR")"
        else
                [ "$RC" = "$want" ] && [ ! -e "$RAN" ] && pass || fail "rc=$RC $(head -c 300 "$ERR")"
        fi
}

rm -f "$D/notify.sock"
start_notify_sink
begin "policy: daemon: starts with an allowlist and a command rule"
if start_daemon "$DP"; then
        pass
        dexpect "default = deny refuses an unlisted program" 126 "$PB/unlisted" "$RAN"
        dexpect "an allowed program runs" runs "$PB/listed" "$RAN"
        dexpect "the loader with an unlisted program is refused" 126 /lib64/ld-linux-x86-64.so.2 "$PB/unlisted" "$RAN"
        begin "policy: daemon: the blocked argv is refused, another runs"
        rm -f "$ARGV_RECORD"
        dv "$CTL" stop execguard.service
        rc1=$RC
        dv "$CTL" status execguard.service
        [ "$rc1" = 126 ] && [ "$RC" = 0 ] && [ "$(cat "$ARGV_RECORD")" = "status execguard.service" ] && pass ||
                fail "rc=$rc1 then $RC: $(cat "$ARGV_RECORD" 2>/dev/null)"
        begin "policy: daemon: argv racer never runs the blocked argv ($RACE_N attempts)"
        race_run "$DLOG" dv "$H/argv-racer" "$CTL" show stop $RACE_N $RACE_S execguard.service
        begin "policy: daemon: STATUS= counts the killed"
        wait_for "$NOTIFY" "killed" && grep 'STATUS=' "$NOTIFY" | tail -n 1 | grep -Eq ', [1-9][0-9]* killed' &&
                pass || fail "$(grep STATUS= "$NOTIFY" | tail -n 1)"
        stop_daemon
else
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi

set_clock "2026-11-23 10:00"
RELOADS=$(grep -ci reload "$DLOG") # the log has daemon.sh's daemons' too
begin "policy: daemon: starts with hours and days, on the test clock"
if EXECGUARD_TEST_CLOCK=$CLOCK start_daemon "$TW"; then
        pass
        dexpect "within the window: refused" 126 "$PB/office" "$RAN"
        set_clock "2026-11-28 10:00"
        dexpect "the clock moved to Saturday, no reload: runs" runs "$PB/office" "$RAN"
        set_clock "2026-11-30 09:30"
        dexpect "the clock moved to Monday again: refused" 126 "$PB/office" "$RAN"
        chmod 666 "$CLOCK"
        set_clock "2026-11-28 10:00"
        dexpect "a clock file writable by others: refused (fail closed)" 126 "$PB/office" "$RAN"
        chmod 644 "$CLOCK"
        begin "policy: daemon: it was never reloaded"
        [ "$(grep -ci reload "$DLOG")" = "$RELOADS" ] && pass || fail "$(grep -i reload "$DLOG" | tail -n 2)"
        stop_daemon
else
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
fi
kill "$NOTIFY_SINK" 2>/dev/null
