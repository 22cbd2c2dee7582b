# The policies shipped in policy/ as examples: valid, and doing what their comments say.
# Sourced by run.sh (EG, T, H, OUT, ERR, has, begin/pass/fail).

SHARED="$HERE/../../policy/shared-host.ini"
BASTION="$HERE/../../policy/ssh-bastion.ini"

for example in "$SHARED" "$BASTION"; do
        begin "examples: $(basename "$example") is a valid policy (execguard check -c FILE)"
        "$EG" check -c "$example" >"$OUT" 2>"$ERR"
        RC=$?
        [ "$RC" = 0 ] && has "valid policy" "$OUT" && pass || fail "rc=$RC $(cat "$OUT" "$ERR")"
done

# A program the user brought: a copy of ls in the test directory (under /tmp, which others
# can write), and the marker helper, which leaves a file when it runs.
mkdir -p "$T/examples"
cp /usr/bin/ls "$T/examples/my-ls"
cp "$H/marker" "$T/examples/my-tool"
rm -f "$T/examples/ran"

begin "examples: bastion: ls and ssh run, a brought program and perl do not"
"$EG" run -c "$BASTION" -- /usr/bin/bash -c '
        /usr/bin/ls / >/dev/null; echo ls=$?
        /usr/bin/ssh -V 2>/dev/null; echo ssh=$?
        "$1/my-tool" "$1/ran"; echo tool=$?
        "$1/my-ls" / >/dev/null; echo my-ls=$?
        /usr/bin/perl -e 1; echo perl=$?' sh "$T/examples" >"$OUT" 2>"$ERR"
has "ls=0" "$OUT" && has "ssh=0" "$OUT" && has "tool=126" "$OUT" && has "my-ls=126" "$OUT" &&
        has "perl=126" "$OUT" && [ ! -e "$T/examples/ran" ] && pass || fail "$(cat "$OUT" "$ERR")"

begin "examples: bastion: check explains why default applied, and which rule allowed"
"$EG" check -c "$BASTION" "$T/examples/my-tool" /usr/bin/ssh >"$OUT" 2>&1
has "$T/examples/my-tool: blocked by $BASTION:12 (default = deny): no allow rule matches $T/examples/my-tool" "$OUT" &&
        has "/usr/bin/ssh: allowed by $BASTION:" "$OUT" && has "(path = /usr/bin/ssh) in [allow]" "$OUT" &&
        pass || fail "$(cat "$OUT")"

begin "examples: bastion: of systemctl only status runs (check --argv)"
"$EG" check -c "$BASTION" --argv 'systemctl status ssh' /usr/bin/systemctl >"$OUT" 2>&1
RC1=$?
"$EG" check -c "$BASTION" --argv 'systemctl stop ssh' /usr/bin/systemctl >>"$OUT" 2>&1
RC2=$?
[ "$RC1" = 0 ] && [ "$RC2" = 1 ] && has "(command = /usr/bin/systemctl status *) in [allow]" "$OUT" &&
        has "(default = deny): no allow rule matches" "$OUT" && pass || fail "rc=$RC1,$RC2 $(cat "$OUT")"

begin "examples: bastion: the sudo group's tools only in its hours (check --user --time)"
if getent group sudo >/dev/null && useradd -M -N -G sudo -s /usr/sbin/nologin eg-e2e-admin 2>/dev/null; then
        "$EG" check -c "$BASTION" --user eg-e2e-admin --time '2026-11-23 10:00' /usr/sbin/useradd >"$OUT" 2>&1
        RC1=$?
        "$EG" check -c "$BASTION" --user eg-e2e-admin --time '2026-11-23 23:00' /usr/sbin/useradd >>"$OUT" 2>&1
        RC2=$?
        "$EG" check -c "$BASTION" --user nobody --time '2026-11-23 10:00' /usr/sbin/useradd >>"$OUT" 2>&1
        RC3=$?
        userdel eg-e2e-admin 2>/dev/null
        [ "$RC1" = 0 ] && [ "$RC2" = 1 ] && [ "$RC3" = 1 ] && has "(allow_dir = /usr/sbin) in [group:sudo]" "$OUT" &&
                pass || fail "rc=$RC1,$RC2,$RC3 $(cat "$OUT")"
else
        skip "cannot add a user to group sudo"
fi

begin "examples: shared host: installed programs run, a brought one does not (trusted_path)"
"$EG" run -c "$SHARED" -- /usr/bin/bash -c '
        /usr/bin/ls / >/dev/null; echo ls=$?
        "$1/my-tool" "$1/ran"; echo tool=$?
        "$1/my-ls" / >/dev/null; echo my-ls=$?' sh "$T/examples" >"$OUT" 2>"$ERR"
has "ls=0" "$OUT" && has "tool=126" "$OUT" && has "my-ls=126" "$OUT" && [ ! -e "$T/examples/ran" ] && pass ||
        fail "$(cat "$OUT" "$ERR")"

begin "examples: shared host: systemctl stop execguard is refused, systemctl --version runs"
if [ -x /usr/bin/systemctl ]; then
        "$EG" run -c "$SHARED" -- /usr/bin/bash -c '
                /usr/bin/systemctl --version >/dev/null; echo version=$?
                /usr/bin/systemctl stop execguard.service; echo stop=$?' >"$OUT" 2>"$ERR"
        has "version=0" "$OUT" && has "stop=126" "$OUT" && has "execguard: blocked /usr/bin/systemctl" "$ERR" && pass ||
                fail "$(cat "$OUT" "$ERR")"
else
        skip "no /usr/bin/systemctl"
fi

begin "examples: shared host: rm -rf / is refused (check --argv), rm -rf DIR is not"
"$EG" check -c "$SHARED" --argv 'rm -rf /' /usr/bin/rm >"$OUT" 2>&1
RC1=$?
"$EG" check -c "$SHARED" --argv 'rm -rf /tmp/x' /usr/bin/rm >>"$OUT" 2>&1
RC2=$?
[ "$RC1" = 1 ] && [ "$RC2" = 0 ] && has "(command = /usr/bin/rm -rf / *)" "$OUT" && pass || fail "rc=$RC1,$RC2 $(cat "$OUT")"
