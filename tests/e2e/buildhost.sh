# The build host's allowlist, policy/build-host.ini: a real autoreconf, configure and make of
# a small autotools project (tests/e2e/buildhost/) run under it with default = deny and
# trusted_path = yes, with no refusal; what is not on the list is refused under the same
# policy; and a build tree under /tmp runs only with the trusted_path exemption
# execguard.ini(5) tells to give it.
# Sourced by run.sh (EG, T, H, OUT, ERR, has, begin/pass/fail/skip).

BUILDHOST="$HERE/../../policy/build-host.ini"
FIXTURE="$HERE/buildhost"
BH=$T/buildhost
# The build tree, in place of the policy's /srv/build: under /tmp, as $T is, so that only the
# policy's trusted_path_exempt lets it run.
TREE=$BH/build
BHLOG=$BH/log/records.json

# The builds run as a user, as on a build host: nobody, when we are root. What trusted_path
# says of the tree's files: a user's are not root's; root's lie under /tmp, which others
# can write.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        BH_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
        BH_WHY="is owned by uid $(id -u nobody), not root"
elif [ "$(id -u)" = 0 ]; then
        BH_AS=()
        BH_WHY="/tmp is writable by others (mode 1777)"
else
        BH_AS=()
        BH_WHY="is owned by uid $(id -u), not root"
fi

# bh_run POLICY CMD...: CMD under execguard with POLICY, as the build user, in the build tree
# (TMPDIR in it, as the policy says); sets RC, OUT, ERR.
bh_run() {
        local policy=$1
        shift
        (cd "$TREE" && HOME=$TREE TMPDIR=$TREE/tmp timeout --kill-after=5 600 "${BH_AS[@]}" \
                "$EG" run -c "$policy" -- "$@" >"$OUT" 2>"$ERR" </dev/null)
        RC=$?
}

# Records of the log, by decision.
bh_count() { grep -c "\"decision\":\"$1\"" "$BHLOG"; }
bh_refusals() { grep -v '"decision":"allow"' "$BHLOG" | grep -c .; }

begin "buildhost: build-host.ini is a valid policy (execguard check -c FILE)"
"$EG" check -c "$BUILDHOST" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && has "valid policy" "$OUT" && pass || fail "rc=$RC $(cat "$OUT" "$ERR")"

bh_missing=""
for tool in autoreconf autoconf automake aclocal m4 perl make cc; do
        command -v "$tool" >/dev/null || bh_missing="$bh_missing $tool"
done

if [ -n "$bh_missing" ]; then
        begin "buildhost: autoreconf, configure, make under build-host.ini"
        skip "not installed:$bh_missing (apt-get install autoconf automake build-essential)"
else
        mkdir -p "$TREE/tmp" "$BH/log" "$BH/elsewhere"
        cp -r "$FIXTURE" "$TREE/hello"
        : >"$BHLOG"
        [ ${#BH_AS[@]} = 0 ] || chown -R nobody:nogroup "$TREE" "$BH/log" "$BH/elsewhere"
        # The shipped policy, with the build tree in place of /srv/build and every exec logged
        # to a file: nothing else of it changed.
        BHPOL=$BH/build-host.ini
        sed -e "s|/srv/build|$TREE|g" \
                -e "s|^; log_allowed = yes|log_allowed = yes|" \
                -e "s|^; log_file = .*|log_file = $BHLOG|" "$BUILDHOST" >"$BHPOL"
        # The same without the build tree's exemption from trusted_path.
        BHPOL_NOEXEMPT=$BH/build-host-noexempt.ini
        grep -v '^trusted_path_exempt = ' "$BHPOL" >"$BHPOL_NOEXEMPT"

        begin "buildhost: the test's copy of build-host.ini differs only in the build tree and the log"
        changed=$(diff "$BUILDHOST" "$BHPOL" | grep '^>' | grep -cv -e "$TREE" -e "^> log_allowed = yes\$" \
                -e "^> log_file = $BHLOG\$")
        [ "$changed" = 0 ] && has "dir = $TREE" "$BHPOL" && has "trusted_path_exempt = $TREE/" "$BHPOL" &&
                has "default = deny" "$BHPOL" && has "trusted_path = yes" "$BHPOL" &&
                ! has "trusted_path_exempt" "$BHPOL_NOEXEMPT" && pass || fail "$(diff "$BUILDHOST" "$BHPOL")"

        begin "buildhost: autoreconf -i runs under build-host.ini with 0 refusals"
        bh_run "$BHPOL" /bin/sh -c 'cd hello && autoreconf -i'
        [ "$RC" = 0 ] && [ -x "$TREE/hello/configure" ] && [ "$(bh_refusals)" = 0 ] &&
                [ "$(bh_count allow)" -ge 50 ] && pass ||
                fail "rc=$RC, $(bh_refusals) refusals: $(grep -v '"decision":"allow"' "$BHLOG" | head -c 1500) $(tail -c 1500 "$ERR")"

        # A second tree, configured under the policy without the exemption below.
        cp -a "$TREE/hello" "$TREE/noexempt"

        begin "buildhost: configure, make and the program built run under build-host.ini with 0 refusals"
        : >"$BHLOG"
        bh_run "$BHPOL" /bin/sh -c 'cd hello && ./configure && make && ./hello'
        allows=$(bh_count allow)
        # It ran the compiler's private programs, and programs of the build tree.
        [ "$RC" = 0 ] && has "hello, configured" "$OUT" && [ "$(bh_refusals)" = 0 ] && [ "$allows" -ge 100 ] &&
                has "\"executable\":\"/usr/lib/gcc/x86_64-linux-gnu/" "$BHLOG" &&
                has "\"executable\":\"$TREE/hello/conftest\"" "$BHLOG" &&
                has "\"executable\":\"$TREE/hello/hello\"" "$BHLOG" && ! grep -qE 'execguard: (blocked|refused)' "$ERR" &&
                pass ||
                fail "rc=$RC, $allows allowed, $(bh_refusals) refusals: $(grep -v '"decision":"allow"' "$BHLOG" |
                        head -c 1500) $(tail -c 1500 "$ERR")"

        begin "buildhost: under the same policy df, python3, a program outside the tree, a script in /tmp are refused"
        : >"$BHLOG"
        cp "$TREE/hello/hello" "$BH/elsewhere/hello"
        printf '#!/bin/sh\necho ran\n' >"$BH/elsewhere/script"
        printf '#!/bin/sh\necho tmpdir-script-ran\n' >"$TREE/tmp/script"
        chmod 755 "$BH/elsewhere/hello" "$BH/elsewhere/script" "$TREE/tmp/script"
        [ ${#BH_AS[@]} = 0 ] || chown nobody:nogroup "$BH/elsewhere/hello" "$BH/elsewhere/script" "$TREE/tmp/script"
        bh_run "$BHPOL" /bin/sh -c '
                /usr/bin/df / >/dev/null 2>&1; echo df=$?
                python3 -c 1 2>/dev/null; echo python3=$?
                "$1/hello" 2>/dev/null; echo elsewhere=$?
                "$1/script" 2>/dev/null; echo script=$?
                "$TMPDIR/script"; echo tmpdir-script=$?
                hello/hello; echo tree=$?' sh "$BH/elsewhere"
        py_ok=1
        if command -v python3 >/dev/null; then has "python3=126" "$OUT" || py_ok=0; fi
        has "df=126" "$OUT" && [ "$py_ok" = 1 ] && has "elsewhere=126" "$OUT" && has "script=126" "$OUT" &&
                has "tmpdir-script-ran" "$OUT" && has "tmpdir-script=0" "$OUT" && has "tree=0" "$OUT" &&
                [ "$(bh_count deny)" -ge 3 ] && pass || fail "rc=$RC $(cat "$OUT") $(tail -c 1500 "$ERR")"

        # trusted_path = yes refuses every file under /tmp: /tmp is writable by others (mode
        # 1777), whoever owns the file and the directories between.
        begin "buildhost: without the exemption, a build tree under /tmp is refused: configure itself"
        : >"$BHLOG"
        bh_run "$BHPOL_NOEXEMPT" /bin/sh -c 'cd noexempt && ./configure'
        [ "$RC" = 126 ] && has "execguard: blocked $TREE/noexempt/configure" "$ERR" &&
                grep '"decision":"deny"' "$BHLOG" | grep -F "\"blocked\":\"$TREE/noexempt/configure\"" |
                grep -F "(trusted_path = yes); " | grep -qF "$BH_WHY" &&
                pass || fail "rc=$RC $(cat "$OUT") $(tail -c 1500 "$ERR") $(head -c 1500 "$BHLOG")"

        begin "buildhost: without the exemption, configure run by sh cannot run the conftest it compiled"
        : >"$BHLOG"
        bh_run "$BHPOL_NOEXEMPT" /bin/sh -c 'cd noexempt && sh ./configure'
        [ "$RC" != 0 ] && has "cannot run C compiled programs" "$ERR" &&
                grep '"decision":"deny"' "$BHLOG" | grep -qF "\"blocked\":\"$TREE/noexempt/conftest\"" &&
                [ ! -e "$TREE/noexempt/Makefile" ] && pass ||
                fail "rc=$RC $(tail -c 1500 "$OUT") $(tail -c 1500 "$ERR") $(head -c 1500 "$BHLOG")"
fi
