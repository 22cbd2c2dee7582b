#!/usr/bin/env bash
# The Debian package, installed for real on this host:
#   tests/deb/check-deb.sh PATH/TO/execguard_VERSION_ARCH.deb
# dpkg -i; what it put where; the installed execguard at work (check, an allowed and a
# blocked exec, its file capabilities in a session of nobody, the daemon's log_file through
# a rotation); then dpkg --purge, and nothing of it left. Closes with "N passed, N failed".
# Root. It refuses to run where anything of execguard is installed already: dpkg -i would
# replace it, and the purge remove it.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$HERE/$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

BIN=/usr/sbin/execguard
UNIT=/lib/systemd/system/execguard.service
WANTS=/etc/systemd/system/multi-user.target.wants/execguard.service
POLICY=/etc/execguard.ini
ROTATE=/etc/logrotate.d/execguard
MAN8=/usr/share/man/man8/execguard.8.gz
MAN5=/usr/share/man/man5/execguard.ini.5.gz
LOG=/var/log/execguard.json
RUNDIR=/run/execguard
SOCK=$RUNDIR/execguard.sock
# Where execguard's files go on a host: the package's, the log_file its logrotate file names
# (the purge removes it), make install's unit. None may be there before, none after the
# purge. RUNDIR is apart: see the purge below.
PATHS="$BIN $UNIT $WANTS $POLICY $ROTATE $MAN8 $MAN5 /etc/systemd/system/execguard.service"

# What dpkg knows of the package: "ii ", "rc " (its conffiles left), "un " or nothing.
status() {
        dpkg-query -W -f='${db:Status-Abbrev}' execguard 2>/dev/null
}

# Those of PATHS, and the log_file with its rotations, that exist.
present() {
        local p found=()
        for p in $PATHS "$LOG" "$LOG".*; do
                if [ -e "$p" ] || [ -L "$p" ]; then found+=("$p"); fi
        done
        printf '%s' "${found[*]}"
}

# A copy of the installed policy with SETTING under [execguard], root's and readable by all
# (a policy file must be root's and writable by nobody else).
policy_with() { # SETTING FILE
        sed "/^\[execguard\]\$/a $1" "$POLICY" >"$2" && chmod 644 "$2"
}

# What its command said on stderr, for a failure's message.
said() {
        tr '\n' '|' <"$T/err"
}

# --- the checks made in a mount namespace of their own ----------------------------------

# The installed execguard standalone, under the installed policy.
exec_checks() {
        local rc
        begin "execguard run -c $POLICY -- /usr/bin/df is blocked (126, 'blocked' on stderr)"
        "$BIN" run -c "$POLICY" -- /usr/bin/df >/dev/null 2>"$T/err"
        rc=$?
        if [ "$rc" = 126 ] && grep -qxF 'execguard: blocked /usr/bin/df' "$T/err"; then
                pass
        else
                fail "status $rc, stderr: $(said)"
        fi

        begin "execguard run -c $POLICY -- /bin/true runs"
        "$BIN" run -c "$POLICY" -- /bin/true 2>"$T/err"
        rc=$?
        if [ "$rc" = 0 ]; then pass; else fail "status $rc, stderr: $(said)"; fi

        # Narrowing the bounding set takes CAP_SETPCAP: a session of a user other than root
        # has it only from the file capabilities postinst set. Without them (or on a nosuid
        # mount) the session starts unnarrowed, and CapBnd is the full set.
        begin "the file capabilities at work: capabilities = narrows a session of nobody"
        policy_with "capabilities = cap_net_bind_service" "$T/caps.ini"
        (cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$BIN" run -c "$T/caps.ini" -- sh -c 'grep ^CapBnd: /proc/self/status') >"$T/out" 2>"$T/err"
        rc=$?
        # cap_net_bind_service is capability 10.
        if [ "$rc" = 0 ] && grep -qx 'CapBnd:[[:space:]]*0000000000000400' "$T/out"; then
                pass
        else
                fail "status $rc, $(cat "$T/out"), stderr: $(said)"
        fi
}

# The daemon with log_file set, and the package's logrotate file rotating that file: the
# postrotate's reload must make the daemon write to a new one.
rotation_checks() {
        local pid rc
        begin "the daemon writes the log_file, and logrotate's reload moves it to a new one"
        policy_with "log_file = $LOG" "$T/log.ini"
        mount --bind "$T/log.ini" "$POLICY"
        "$BIN" daemon 2>"$T/daemon.log" &
        pid=$!
        # Should this script be stopped, the daemon goes too (until it is reaped below).
        # shellcheck disable=SC2064 # its pid now
        trap "kill -KILL $pid 2>/dev/null" EXIT
        for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
        "$BIN" run --socket "$SOCK" -- /usr/bin/df >/dev/null 2>"$T/err"
        rc=$?
        if [ "$rc" != 126 ] || [ "$(grep -c '"action":"exec-denied"' "$LOG" 2>/dev/null)" != 1 ]; then
                fail "before the rotation: status $rc, stderr: $(said), daemon: $(tr '\n' '|' <"$T/daemon.log")"
        elif ! logrotate -f -s "$T/logrotate.status" "$ROTATE" >"$T/err" 2>&1; then
                fail "logrotate -f: $(said)"
        elif [ "$(grep -c '"action":"exec-denied"' "$LOG.1" 2>/dev/null)" != 1 ] || [ ! -e "$LOG" ]; then
                fail "after the rotation: no record in $LOG.1, or no new $LOG: $(ls "$LOG"*)"
        else
                "$BIN" run --socket "$SOCK" -- /usr/bin/df >/dev/null 2>"$T/err"
                if [ "$(grep -c '"action":"exec-denied"' "$LOG")" = 1 ] &&
                        [ "$(grep -c '"action":"exec-denied"' "$LOG.1")" = 1 ]; then
                        pass
                else
                        fail "the record after the rotation is not (only) in the new $LOG"
                fi
        fi
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"
        trap - EXIT
}

# The supervised execs above make audit records. Here they reach no journal and no syslog:
# other runs on this host bind sinks of their own at /dev/log, and would get them. So /dev
# is a fresh tmpfs with the host's null, zero, full, random, urandom and tty (a socket made
# later in the host's /dev shows through nothing here), and /run an empty one, where the
# daemon of the rotation has its socket. The counts go back to the caller in $T/counts.
if [ "${1-}" = --isolated ]; then
        shift
        # Only ever in a mount namespace of its own: these mounts would hide the host's
        # /dev and /run.
        if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
                echo "check-deb: --isolated outside a mount namespace of its own: refused" >&2
                exit 125
        fi
        mkdir "$T/hostdev"
        mount --bind /dev "$T/hostdev" || exit 125
        mount -t tmpfs -o mode=755 tmpfs /dev || exit 125
        for n in null zero full random urandom tty; do
                : >"/dev/$n"
                mount --bind "$T/hostdev/$n" "/dev/$n" || exit 125
        done
        umount "$T/hostdev" && rmdir "$T/hostdev"
        mount -t tmpfs -o mode=755 tmpfs /run || exit 125
        trap 'exit 1' INT TERM HUP
        "$1"
        echo "$PASSED $FAILED $SKIPPED" >"$T/counts"
        exit 0
fi

isolated() { # FUNCTION
        local p f s
        if ! unshare --mount --propagation private "$SELF" --isolated "$1"; then
                begin "$1"
                fail "cannot set up its mount namespace (unshare, tmpfs over /dev and /run)"
                return
        fi
        read -r p f s <"$T/counts"
        PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
}

# --- the package, installed and purged --------------------------------------------------

DEB=${1:?usage: check-deb.sh PATH/TO/execguard_VERSION_ARCH.deb}
if [ "$(id -u)" != 0 ]; then
        echo "check-deb: needs root (dpkg -i, dpkg --purge)" >&2
        exit 1
fi
if [ ! -f "$DEB" ]; then
        echo "check-deb: no $DEB: make deb builds it" >&2
        exit 1
fi
case "$(status)" in
"" | un*) ;;
*)
        echo "check-deb: the execguard package is on this host already (dpkg: '$(status)'): not touching it" >&2
        exit 1
        ;;
esac
if [ -n "$(present)" ]; then
        echo "check-deb: execguard's files are on this host already ($(present)): not touching them" >&2
        exit 1
fi
if [ -e "$SOCK" ]; then
        echo "check-deb: a daemon has its socket at $SOCK: not touching it" >&2
        exit 1
fi
# An empty RUNDIR may be there, left by another execguard's run: the purge removes an empty
# one, and this puts it back as it was.
RUNDIR_WAS=$(stat -c '%a %u:%g' "$RUNDIR" 2>/dev/null)

T=$(mktemp -d /tmp/execguard-deb.XXXXXX)
# nobody reads the policy of the capabilities check here.
chmod 755 "$T"
export T
INSTALLED=""
# Purge whatever happens: a check that fails, or the script stopped.
cleanup() {
        local mode owner
        [ -z "$INSTALLED" ] || dpkg --purge execguard >/dev/null 2>&1
        if [ -n "$RUNDIR_WAS" ] && [ ! -e "$RUNDIR" ]; then
                read -r mode owner <<<"$RUNDIR_WAS"
                install -d -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$RUNDIR"
        fi
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

begin "dpkg -i $(basename "$DEB")"
INSTALLED=1
if dpkg -i "$DEB" >"$T/dpkg.log" 2>&1; then
        pass
else
        fail "$(tail -5 "$T/dpkg.log" | tr '\n' '|')"
fi

begin "$BIN, with the file capabilities cap_setpcap,cap_sys_admin=p"
caps=$(getcap "$BIN" 2>&1)
if [ "$caps" = "$BIN cap_setpcap,cap_sys_admin=p" ]; then pass; else fail "getcap: '$caps'"; fi

begin "the unit $UNIT, ExecStart=$BIN daemon"
if grep -qx "ExecStart=$BIN daemon" "$UNIT" 2>/dev/null; then pass; else fail "no such line"; fi

if command -v systemd-analyze >/dev/null; then
        begin "systemd-analyze verify $UNIT"
        if systemd-analyze verify "$UNIT" >"$T/err" 2>&1; then pass; else fail "$(said)"; fi
else
        begin "systemd-analyze verify $UNIT"
        skip "no systemd-analyze"
fi

check "the unit is enabled ($WANTS)" [ "$(readlink "$WANTS")" = "$UNIT" ]

# The maintainer scripts start it only where systemd runs.
begin "the daemon runs, where systemd does"
if [ ! -d /run/systemd/system ]; then
        not_applicable "systemd is not running here: the unit is enabled, not started"
elif systemctl is-active --quiet execguard.service; then
        pass
else
        fail "systemctl is-active: $(systemctl is-active execguard.service)"
fi

check "the man page $MAN8" [ -f "$MAN8" ]
check "the man page $MAN5" [ -f "$MAN5" ]

conffiles=$(dpkg-query -W -f='${Conffiles}' execguard 2>/dev/null)
check "$POLICY is a conffile" grep -q "^ $POLICY " <<<"$conffiles"
check "$ROTATE is a conffile" grep -q "^ $ROTATE " <<<"$conffiles"

if command -v logrotate >/dev/null; then
        begin "logrotate -d $ROTATE"
        if logrotate -d "$ROTATE" >"$T/err" 2>&1 && ! grep -qi 'error' "$T/err"; then pass; else fail "$(said)"; fi
else
        begin "logrotate -d $ROTATE"
        skip "no logrotate"
fi

begin "$BIN check: the installed policy is valid"
if "$BIN" check >"$T/out" 2>"$T/err" && grep -qxF "$POLICY: valid policy, 1 rule" "$T/out"; then
        pass
else
        fail "$(cat "$T/out"), stderr: $(said)"
fi

begin "$BIN check /usr/bin/df: blocked (1)"
"$BIN" check /usr/bin/df >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 1 ] && grep -q "^/usr/bin/df: blocked by $POLICY:" "$T/out"; then
        pass
else
        fail "status $rc, $(cat "$T/out"), stderr: $(said)"
fi

isolated exec_checks
if command -v logrotate >/dev/null; then
        isolated rotation_checks
else
        begin "the daemon writes the log_file, and logrotate's reload moves it to a new one"
        skip "no logrotate"
fi

begin "dpkg --purge execguard"
if dpkg --purge execguard >"$T/dpkg.log" 2>&1; then
        INSTALLED=""
        pass
else
        fail "$(tail -5 "$T/dpkg.log" | tr '\n' '|')"
fi

begin "dpkg knows it no more"
case "$(status)" in
"" | un*) pass ;;
*) fail "dpkg: '$(status)'" ;;
esac
left=$(present)
check "nothing of it is left${left:+: $left}" [ -z "$left" ]
[ -n "$RUNDIR_WAS" ] || check "$RUNDIR is gone" [ ! -e "$RUNDIR" ]
check "deb-systemd-helper forgot the unit" \
        [ -z "$(find /var/lib/systemd/deb-systemd-helper-enabled -name 'execguard.service*' 2>/dev/null)" ]

summary
