# Protected paths (issue 21, items 1-3; the contract is execguard.ini(5)'s [protect]): what a
# supervised process may not do to a protected file or directory, by every operation and by
# the routes people take to it (coreutils, sh, python3, perl, find, relative names, symlinks,
# hard links, fds), and the racers that swap what an operation names while the supervisor
# looks; then that what is not protected is done exactly as the kernel would do it (the
# supervisor performs it on the process's behalf: content, mode, owner, umask, and the
# process's own permissions), the records, and `execguard check --op`. Sourced by run.sh
# (EG, T, H, OUT, ERR, HERE, has, begin/pass/fail/skip).
#
# EXECGUARD_E2E_ONLY=protect tests/e2e/run.sh EXECGUARD HELPERS runs this file alone.
#
# Every refusal is paired with the same operation allowed where nothing protects it, so a
# supervisor that refuses everything fails too; each racer is first run unsupervised
# against a copy, where it must do harm (the attack is live). EXECGUARD_PROTECT_RACE_ATTEMPTS
# and EXECGUARD_PROTECT_RACE_SECONDS (2000, 20) bound each racer.

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null || ! command -v setpriv >/dev/null ||
        ! id nobody >/dev/null 2>&1 || ! getent group nogroup >/dev/null; then
        begin "protect: protected paths"
        skip "need root, python3, setpriv, the user nobody and the group nogroup"
        return 0 2>/dev/null || exit 0
fi

PR=$T/protect
mkdir -p "$PR"
chmod 755 "$PR"
PA=$PR/audit.json
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
F=$PR/etc/sshd_config
SUDOERS=$PR/etc/sudoers.d
CRON=$PR/etc/cron.d

# reset_etc: the protected tree, as new, before every case (a case whose refusal failed
# must not decide the next one), and a work directory nothing protects.
reset_etc() {
        rm -rf "${PR:?}/etc" "$PR/etc.moved" "$PR/work"
        mkdir -p "$SUDOERS/deep" "$CRON" "$PR/etc/emptydir" "$PR/etc/ssh/sub" "$PR/work"
        chmod 755 "$PR/etc" "$SUDOERS" "$SUDOERS/deep" "$CRON" "$PR/etc/emptydir" "$PR/etc/ssh" \
                "$PR/etc/ssh/sub" "$PR/work"
        printf 'Port 22\nPermitRootLogin no\n' >"$F"
        printf '%%admin ALL=(ALL) ALL\n' >"$SUDOERS/admins"
        printf 'x\n' >"$SUDOERS/deep/x"
        printf 'Host *\n' >"$PR/etc/ssh/ssh_config"
        printf 'moduli\n' >"$PR/etc/ssh/moduli"
        printf 'y\n' >"$PR/etc/ssh/sub/y_config"
        printf 'other\n' >"$PR/work/other"
        chmod 644 "$F" "$SUDOERS/deep/x" "$PR/etc/ssh/ssh_config" "$PR/etc/ssh/moduli" "$PR/etc/ssh/sub/y_config" \
                "$PR/work/other"
        chmod 440 "$SUDOERS/admins"
}
reset_etc

# pr_policy FILE MODE DENY [SETTING...]: a policy with one [protect] section over the tree
# (its settings after the header). Policies with the same settings have the same lines, so
# a rule's line is the same in each.
pr_policy() {
        local file=$1 mode=$2 deny=$3
        shift 3
        {
                printf '[execguard]\nmode = %s\nlog_file = %s\n' "$mode" "$PA"
                for setting in "$@"; do printf '%s\n' "$setting"; done
                printf '\n[protect]\ndeny = %s\n' "$deny"
                printf 'path = %s\n' "$F" "$PR/etc/emptydir" "$PR/etc/ld.so.preload" "$PR/etc/ssh/*_config"
                printf 'dir = %s\n' "$SUDOERS" "$CRON"
        } >"$file"
        chmod 644 "$file"
}
POL=$PR/all.ini
pr_policy "$POL" enforce all
for op in unlink rename truncate write chmod chown link symlink; do
        pr_policy "$PR/only-$op.ini" enforce "$op"
done
pr_policy "$PR/audit.ini" audit all
pr_policy "$PR/kill.ini" enforce all "action = kill"

# line_of FILE TEXT: the number of TEXT's line in FILE (a rule's place: rule.name).
line_of() {
        grep -nxF -- "$2" "$1" | head -n 1 | cut -d: -f1
}
L_F=$(line_of "$POL" "path = $F")
L_EMPTY=$(line_of "$POL" "path = $PR/etc/emptydir")
L_PRELOAD=$(line_of "$POL" "path = $PR/etc/ld.so.preload")
L_GLOB=$(line_of "$POL" "path = $PR/etc/ssh/*_config")
L_SUDOERS=$(line_of "$POL" "dir = $SUDOERS")
L_CRON=$(line_of "$POL" "dir = $CRON")

# pv POLICY CMD...: CMD supervised; RC, OUT, ERR; $PA holds this session's records alone.
# A session that hangs is a failure (RC 124), never a stuck suite.
pv() {
        local policy=$1
        shift
        : >"$PA"
        timeout --kill-after=5 120 "$EG" run -c "$policy" -- "$@" >"$OUT" 2>"$ERR" </dev/null
        RC=$?
}

# snap PATH: what PATH is: inode, mode, owner, size, links, and its content (a file) or its
# names (a directory); empty when it is gone.
snap() {
        [ -e "$1" ] || [ -L "$1" ] || return 0
        stat -c '%i %F %a %u:%g %s %h' "$1"
        if [ -d "$1" ] && [ ! -L "$1" ]; then
                ls -A "$1" | tr '\n' ' '
        elif [ -f "$1" ]; then
                md5sum <"$1"
        fi
}

# rec CONDITION...: some JSON record of the session meets every KEY=VALUE (KEY dotted as in
# ECS; VALUE a|b: any of them; a list or number is compared as JSON). rec --no-file: no
# record of a file operation at all. On failure $PR/rec.out says what the records were.
cat >"$PR/rec.py" <<'EOF'
import json, sys
path, conds = sys.argv[1], sys.argv[2:]
recs = []
try:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            recs.append(json.loads(line))
except (OSError, ValueError) as e:
    sys.exit(f"{path}: {e}")
def get(rec, dotted):
    for part in dotted.split("."):
        if not isinstance(rec, dict) or part not in rec:
            return None
        rec = rec[part]
    return rec
def show(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
def meets(rec):
    for c in conds:
        key, _, want = c.partition("=")
        v = get(rec, key)
        if v is None or show(v) not in want.split("|"):
            return False
    return True
files = [r for r in recs if get(r, "event.dataset") == "execguard.file"]
if conds == ["--no-file"]:
    ok = not files
else:
    ok = any(meets(r) for r in recs)
if not ok:
    print("want " + (" ".join(conds) or "records") + f"; {len(recs)} records, the file ones:")
    for r in (files or recs)[-4:]:
        print(json.dumps({k: r.get(k) for k in ("event", "execguard", "rule")}, separators=(",", ":")))
    sys.exit(1)
EOF
chmod 644 "$PR/rec.py"
rec() {
        python3 "$PR/rec.py" "$PA" "$@" >"$PR/rec.out" 2>&1
}

# frec ACTION OP SYSCALLS RULE-LINE [CONDITION...]: the file record of a refusal, with the
# fields every one carries.
frec() {
        local action=$1 op=$2 syscalls=$3 line=$4 policy=${FREC_POLICY:-$POL}
        shift 4
        rec 'event.category=["file"]' event.dataset=execguard.file "event.action=$action" \
                "execguard.operation=$op" "execguard.syscall=$syscalls" "rule.name=$policy:$line" "$@"
}

# refused PATH BEFORE RECORD-CONDITION...: after pv, the command failed with EACCES, PATH is
# as it was (BEFORE, its snap), and a record meets every condition (frec's arguments).
refused() {
        local path=$1 before=$2
        shift 2
        if [ "$RC" = 0 ]; then
                fail "the command succeeded; $path: '$before' -> '$(snap "$path")'"
        elif ! has "Permission denied" "$ERR" && ! has "EACCES" "$ERR"; then
                fail "rc=$RC, not EACCES: $(tail -c 400 "$ERR")"
        elif [ "$(snap "$path")" != "$before" ]; then
                fail "$path changed: '$before' -> '$(snap "$path")'"
        elif ! frec "$@"; then
                fail "rc=$RC, $path intact, but the record: $(cat "$PR/rec.out")"
        else
                pass
        fi
}

begin "protect: the policies are valid (execguard check -c)"
bad=""
for p in "$POL" "$PR"/only-*.ini "$PR/audit.ini" "$PR/kill.ini"; do
        "$EG" check -c "$p" >"$OUT" 2>"$ERR" && has "valid policy" "$OUT" || bad="$bad $p: $(cat "$OUT" "$ERR")"
done
[ -z "$bad" ] && pass || fail "$bad"

# ---- every operation, refused on a protected file ----------------------------------------
# Each under a policy that denies that operation alone, so the record's action is that one.

begin "protect: unlink: rm of a protected file is refused (EACCES), the file intact, recorded"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-unlink.ini
pv "$FREC_POLICY" rm -f "$F"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.requested=$F" "execguard.blocked=$F"

begin "protect: rename: moving a protected file away is refused"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-rename.ini
pv "$FREC_POLICY" mv "$F" "$PR/work/moved"
if [ -e "$PR/work/moved" ]; then
        fail "$PR/work/moved exists: $(snap "$PR/work/moved")"
else
        refused "$F" "$before" file-rename-denied rename "renameat2|renameat|rename" "$L_F" "execguard.requested=$F" \
                "execguard.target=$PR/work/moved" "execguard.blocked=$F"
fi

begin "protect: rename: moving another file over a protected one is refused"
reset_etc
before=$(snap "$F")
other=$(snap "$PR/work/other")
pv "$FREC_POLICY" mv -f "$PR/work/other" "$F"
if [ "$(snap "$PR/work/other")" != "$other" ]; then
        fail "$PR/work/other moved: $(snap "$PR/work/other")"
else
        refused "$F" "$before" file-rename-denied rename "renameat2|renameat|rename" "$L_F" \
                "execguard.requested=$PR/work/other" "execguard.target=$F" "execguard.blocked=$F"
fi

begin "protect: rename: moving a name into a protected directory is refused"
reset_etc
before=$(snap "$SUDOERS")
pv "$FREC_POLICY" mv "$PR/work/other" "$SUDOERS/other"
if [ ! -e "$PR/work/other" ]; then
        fail "$PR/work/other is gone; $SUDOERS: $(snap "$SUDOERS")"
else
        refused "$SUDOERS" "$before" file-rename-denied rename "renameat2|renameat|rename" "$L_SUDOERS" \
                "execguard.requested=$PR/work/other" "execguard.target=$SUDOERS/other"
fi

begin "protect: rename: moving a name out of a protected directory is refused"
reset_etc
before=$(snap "$SUDOERS")
pv "$FREC_POLICY" mv "$SUDOERS/admins" "$PR/work/admins"
if [ -e "$PR/work/admins" ]; then
        fail "$PR/work/admins exists"
else
        refused "$SUDOERS" "$before" file-rename-denied rename "renameat2|renameat|rename" "$L_SUDOERS" \
                "execguard.requested=$SUDOERS/admins" "execguard.target=$PR/work/admins"
fi

begin "protect: truncate: ': > file' in sh (O_TRUNC) is refused"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-truncate.ini
pv "$FREC_POLICY" sh -c ": > '$F'"
refused "$F" "$before" file-truncate-denied truncate "openat|open|creat" "$L_F" "execguard.requested=$F" \
        "execguard.blocked=$F"

begin "protect: truncate: truncate -s0 (ftruncate) is refused"
reset_etc
before=$(snap "$F")
pv "$FREC_POLICY" truncate -s0 "$F"
refused "$F" "$before" file-truncate-denied truncate ftruncate "$L_F" "execguard.blocked=$F"

begin "protect: write: 'echo x >> file' in sh is refused"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-write.ini
pv "$FREC_POLICY" sh -c "echo x >> '$F'"
refused "$F" "$before" file-write-denied write "openat|open" "$L_F" "execguard.requested=$F" "execguard.blocked=$F"

begin "protect: write: python3 open(file, 'w') is refused"
reset_etc
before=$(snap "$F")
pv "$FREC_POLICY" python3 -c 'import sys; open(sys.argv[1], "w").write("pwned\n")' "$F"
refused "$F" "$before" file-write-denied write "openat|open" "$L_F" "execguard.blocked=$F"

begin "protect: write: a new file in a protected directory (O_CREAT) is refused"
reset_etc
before=$(snap "$SUDOERS")
pv "$FREC_POLICY" sh -c "echo 'ALL ALL=(ALL) NOPASSWD: ALL' > '$SUDOERS/evil'"
refused "$SUDOERS" "$before" file-write-denied write "openat|open|creat" "$L_SUDOERS" \
        "execguard.requested=$SUDOERS/evil"

begin "protect: write: mkdir in a protected directory is refused"
reset_etc
before=$(snap "$SUDOERS")
pv "$FREC_POLICY" mkdir "$SUDOERS/newdir"
refused "$SUDOERS" "$before" file-write-denied write "mkdir|mkdirat" "$L_SUDOERS" \
        "execguard.requested=$SUDOERS/newdir"

begin "protect: write: creating a protected path that does not exist yet (ld.so.preload) is refused"
reset_etc
before=$(snap "$PR/etc")
pv "$FREC_POLICY" sh -c "echo /tmp/evil.so > '$PR/etc/ld.so.preload'"
refused "$PR/etc" "$before" file-write-denied write "openat|open|creat" "$L_PRELOAD" \
        "execguard.requested=$PR/etc/ld.so.preload"

begin "protect: chmod: chmod 777 of a protected file is refused"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-chmod.ini
pv "$FREC_POLICY" chmod 777 "$F"
refused "$F" "$before" file-chmod-denied chmod "fchmodat|fchmodat2|chmod" "$L_F" "execguard.requested=$F" \
        "execguard.blocked=$F"

begin "protect: chown: chown nobody of a protected file is refused"
reset_etc
before=$(snap "$F")
FREC_POLICY=$PR/only-chown.ini
pv "$FREC_POLICY" chown nobody "$F"
refused "$F" "$before" file-chown-denied chown "fchownat|chown|lchown" "$L_F" "execguard.requested=$F" \
        "execguard.blocked=$F"

begin "protect: link: ln into a protected directory is refused"
reset_etc
before=$(snap "$SUDOERS")
FREC_POLICY=$PR/only-link.ini
pv "$FREC_POLICY" ln "$PR/work/other" "$SUDOERS/other"
refused "$SUDOERS" "$before" file-link-denied link "linkat|link" "$L_SUDOERS" "execguard.requested=$PR/work/other" \
        "execguard.target=$SUDOERS/other"

begin "protect: link: ln to a protected name that does not exist yet is refused"
reset_etc
before=$(snap "$PR/etc")
pv "$FREC_POLICY" ln "$PR/work/other" "$PR/etc/ld.so.preload"
refused "$PR/etc" "$before" file-link-denied link "linkat|link" "$L_PRELOAD" \
        "execguard.target=$PR/etc/ld.so.preload"

begin "protect: symlink: ln -s into a protected directory is refused"
reset_etc
before=$(snap "$SUDOERS")
FREC_POLICY=$PR/only-symlink.ini
pv "$FREC_POLICY" ln -s "$PR/work/other" "$SUDOERS/evil"
refused "$SUDOERS" "$before" file-symlink-denied symlink "symlinkat|symlink" "$L_SUDOERS" \
        "execguard.target=$SUDOERS/evil"

begin "protect: symlink: ln -s to a protected name that does not exist yet is refused"
reset_etc
before=$(snap "$PR/etc")
pv "$FREC_POLICY" ln -s /tmp/evil.so "$PR/etc/ld.so.preload"
refused "$PR/etc" "$before" file-symlink-denied symlink "symlinkat|symlink" "$L_PRELOAD" \
        "execguard.target=$PR/etc/ld.so.preload"
unset FREC_POLICY

# A section refuses the operations it lists, and no other.
begin "protect: an operation the section does not list is done (chmod under deny = unlink)"
reset_etc
pv "$PR/only-unlink.ini" sh -c "chmod 600 '$F' && echo x >> '$F'"
[ "$RC" = 0 ] && [ "$(stat -c %a "$F")" = 600 ] && [ "$(tail -n 1 "$F")" = x ] && rec --no-file && pass ||
        fail "rc=$RC mode $(stat -c %a "$F"); $(cat "$ERR" "$PR/rec.out")"

# Several sections: a path is protected against an operation if any section that applies
# names it and lists the operation; a section whose conditions do not hold takes no part.
CHOWN=$(readlink -f "$(command -v chown)")
cat >"$PR/sections.ini" <<EOF
[execguard]
mode = enforce
log_file = $PA

[protect]
deny = unlink
path = $F

[protect]
deny = chmod
path = $F

[protect]
deny = chown
parent = $CHOWN
path = $PR/work/other

[protect]
deny = truncate
hours = 00:00-24:00
path = $F

[protect]
deny = write
hours = $(date -d '+12 hours' +%H):00-$(date -d '+12 hours' +%H):01
path = $F
EOF
chmod 644 "$PR/sections.ini"
# sline OP: the line of the path rule of the section that denies OP.
sline() {
        awk -v deny="deny = $1" '$0 == deny { s = 1 } s && /^path = / { print NR; exit }' "$PR/sections.ini"
}
FREC_POLICY=$PR/sections.ini

begin "protect: several sections: each refuses what it lists (unlink, chmod), and nothing else (append done)"
reset_etc
pv "$FREC_POLICY" sh -c "rm -f '$F'; echo rm=\$?; chmod 600 '$F'; echo chmod=\$?; echo appended >> '$F'; echo append=\$?"
if [ "$(tr '\n' ' ' <"$OUT")" != "rm=1 chmod=1 append=0 " ] || [ "$(stat -c %a "$F")" != 644 ] ||
        [ "$(tail -n 1 "$F")" != appended ]; then
        fail "$(cat "$OUT" "$ERR"); $(stat -c %a "$F") $(tail -n 1 "$F")"
elif ! frec file-delete-denied unlink unlinkat "$(sline unlink)" ||
        ! frec file-chmod-denied chmod "fchmodat|fchmodat2|chmod" "$(sline chmod)"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

begin "protect: conditions: hours that hold refuse (truncate); hours that do not take no part (write)"
reset_etc
before=$(snap "$F")
pv "$FREC_POLICY" sh -c "(: > '$F') 2>/dev/null; echo truncate=\$?; echo x >> '$F'; echo append=\$?"
if [ "$(tr '\n' ' ' <"$OUT")" != "truncate=2 append=0 " ] || [ "$(tail -n 1 "$F")" != x ] ||
        [ "$(head -n 2 "$F")" != "$(printf 'Port 22\nPermitRootLogin no')" ]; then
        fail "$(cat "$OUT" "$ERR"); $F: '$before' -> '$(snap "$F")'"
elif ! frec file-truncate-denied truncate "openat|open" "$(sline truncate)"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

begin "protect: conditions: parent = chown(1): chown refused, python3's os.chown done"
reset_etc
pv "$FREC_POLICY" sh -c "chown nobody '$PR/work/other'; echo chown=\$?; python3 -c 'import os, sys; os.chown(sys.argv[1], 65534, -1)' '$PR/work/other'; echo python=\$?"
if [ "$(tr '\n' ' ' <"$OUT")" != "chown=1 python=0 " ] || [ "$(stat -c %U "$PR/work/other")" != nobody ]; then
        fail "$(cat "$OUT" "$ERR"); owner $(stat -c %U "$PR/work/other")"
elif ! frec file-chown-denied chown "fchownat|chown|lchown" "$(sline chown)"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi
unset FREC_POLICY

# ---- the routes people take --------------------------------------------------------------

begin "protect: route: python3 os.unlink"
reset_etc
before=$(snap "$F")
pv "$POL" python3 -c 'import os, sys; os.unlink(sys.argv[1])' "$F"
refused "$F" "$before" file-delete-denied unlink unlink "$L_F" "execguard.requested=$F" "execguard.blocked=$F"

begin "protect: route: python3 os.unlink relative to a directory fd (unlinkat)"
reset_etc
before=$(snap "$F")
pv "$POL" python3 -c 'import os, sys; os.unlink("sshd_config", dir_fd=os.open(sys.argv[1], os.O_RDONLY))' "$PR/etc"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.requested=sshd_config" \
        "execguard.blocked=$F"

begin "protect: route: perl unlink"
if command -v perl >/dev/null; then
        reset_etc
        before=$(snap "$F")
        pv "$POL" perl -e 'unlink $ARGV[0] or die "$!\n"' "$F"
        refused "$F" "$before" file-delete-denied unlink "unlink|unlinkat" "$L_F" "execguard.blocked=$F"
else
        skip "perl not installed"
fi

begin "protect: route: find -name sshd_config -delete"
reset_etc
before=$(snap "$F")
pv "$POL" find "$PR/etc" -maxdepth 1 -name sshd_config -delete
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.blocked=$F"

begin "protect: route: find DIR -delete over a protected directory leaves all of it"
reset_etc
before=$(snap "$SUDOERS")
deep=$(snap "$SUDOERS/deep")
pv "$POL" find "$SUDOERS" -delete
if [ "$(snap "$SUDOERS/deep")" != "$deep" ] || [ ! -e "$SUDOERS/deep/x" ] || [ ! -e "$SUDOERS/admins" ]; then
        fail "rc=$RC: $(find "$SUDOERS" 2>&1 | tr '\n' ' ')"
else
        refused "$SUDOERS" "$before" file-delete-denied unlink unlinkat "$L_SUDOERS"
fi

begin "protect: route: rm -rf of a protected directory leaves all of it"
reset_etc
before=$(snap "$SUDOERS")
pv "$POL" rm -rf "$SUDOERS"
if [ ! -e "$SUDOERS/deep/x" ] || [ ! -e "$SUDOERS/admins" ]; then
        fail "rc=$RC: $(find "$SUDOERS" 2>&1 | tr '\n' ' ')"
else
        refused "$SUDOERS" "$before" file-delete-denied unlink unlinkat "$L_SUDOERS"
fi

begin "protect: route: mv across directories"
reset_etc
mkdir -p "$PR/work/dest"
before=$(snap "$F")
pv "$POL" mv "$F" "$PR/work/dest/"
if [ -e "$PR/work/dest/sshd_config" ]; then
        fail "moved: $(snap "$PR/work/dest/sshd_config")"
else
        refused "$F" "$before" file-rename-denied rename "renameat2|renameat|rename" "$L_F" "execguard.blocked=$F"
fi

begin "protect: route: mv to another file system (copy, then unlink the source)"
SHM=/dev/shm
if [ -d "$SHM" ] && [ "$(stat -c %d "$SHM")" != "$(stat -c %d "$PR")" ]; then
        reset_etc
        before=$(snap "$F")
        dest=$SHM/execguard-protect.$$
        rm -f "$dest"
        pv "$POL" mv "$F" "$dest"
        rm -f "$dest"
        # Refused as a rename (EACCES), or, if the rename is let fail with EXDEV, the copy's
        # unlink of the source: the source stays either way.
        refused "$F" "$before" "file-rename-denied|file-delete-denied" "rename|unlink" "renameat2|renameat|rename|unlinkat" \
                "$L_F" "execguard.blocked=$F"
else
        not_applicable "/dev/shm is not another file system here"
fi

begin "protect: route: rm -f"
reset_etc
before=$(snap "$F")
pv "$POL" rm -f "$F"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.blocked=$F"

begin "protect: route: rmdir of a protected empty directory (path =)"
reset_etc
before=$(snap "$PR/etc/emptydir")
pv "$POL" rmdir "$PR/etc/emptydir"
refused "$PR/etc/emptydir" "$before" file-delete-denied unlink "rmdir|unlinkat" "$L_EMPTY" \
        "execguard.blocked=$PR/etc/emptydir"

# ---- relative names, .., symlinks, hard links, fds ---------------------------------------

begin "protect: relative: cd into the directory, rm sshd_config"
reset_etc
before=$(snap "$F")
pv "$POL" sh -c "cd '$PR/etc' && rm sshd_config"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.requested=sshd_config" \
        "execguard.blocked=$F"

begin "protect: relative: ../etc/sshd_config from another directory"
reset_etc
before=$(snap "$F")
pv "$POL" sh -c "cd '$PR/work' && rm -f ../etc/sshd_config"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.requested=../etc/sshd_config" \
        "execguard.blocked=$F"

begin "protect: relative: .., . and // in an absolute path"
reset_etc
before=$(snap "$F")
pv "$POL" sh -c "rm -f '$PR/work/../etc/./sshd_config'; rm -f '$PR//etc///sshd_config'; : > '$PR/work/../etc/sshd_config'"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.requested=$PR/work/../etc/./sshd_config" \
        "execguard.blocked=$F"

begin "protect: relative: through a symlink to the directory"
reset_etc
ln -s "$PR/etc" "$PR/work/etclink"
before=$(snap "$F")
pv "$POL" rm -f "$PR/work/etclink/sshd_config"
refused "$F" "$before" file-delete-denied unlink unlinkat "$L_F" "execguard.blocked=$F"

begin "protect: a symlink to a protected file: truncate and chmod through it refused, the link itself removable"
reset_etc
ln -s "$F" "$PR/work/fl"
before=$(snap "$F")
pv "$POL" sh -c "(: > '$PR/work/fl') 2>/dev/null && echo truncated; chmod 777 '$PR/work/fl' && echo chmodded; rm '$PR/work/fl' && echo removed"
if [ "$(snap "$F")" != "$before" ] || has truncated "$OUT" || has chmodded "$OUT"; then
        fail "$F: '$before' -> '$(snap "$F")'; $(cat "$OUT" "$ERR")"
elif ! has removed "$OUT" || [ -L "$PR/work/fl" ]; then
        fail "the symlink (not protected) was not removed: $(cat "$ERR")"
elif ! frec file-chmod-denied chmod "fchmodat|fchmodat2|chmod" "$L_F" "execguard.requested=$PR/work/fl" \
        "execguard.blocked=$F"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

begin "protect: a hard link made before the session: truncate, append and chmod through it refused"
reset_etc
ln "$F" "$PR/work/hard"
before=$(snap "$F")
pv "$POL" sh -c "(: > '$PR/work/hard') 2>/dev/null && echo truncated; (echo x >> '$PR/work/hard') 2>/dev/null && echo appended; chmod 777 '$PR/work/hard' && echo chmodded"
if has truncated "$OUT" || has appended "$OUT" || has chmodded "$OUT" || [ "$(snap "$F")" != "$before" ]; then
        fail "$(cat "$OUT"); $F: '$before' -> '$(snap "$F")'"
elif ! frec "file-truncate-denied|file-write-denied" "truncate|write" "openat|open" "$L_F" \
        "execguard.requested=$PR/work/hard"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

# What the filter does not trap (utimensat, setxattr, a hard link to it whose new name is
# not protected) changes the file's ctime and its link count, never what it is: the file
# stays protected, by every name, for the rest of the session.
begin "protect: after touch -h (utimensat, not a protected operation) the file is still protected: rm, truncate, chmod refused"
reset_etc
before=$(snap "$F")
pv "$POL" sh -c "touch -h -d 2001-01-01 '$F' || echo touch-failed; rm -f '$F'; (: > '$F'); chmod 777 '$F'; true"
if [ "$(snap "$F")" != "$before" ]; then
        fail "$(grep -c 'Permission denied' "$ERR") of rm, truncate, chmod refused; $F: '$before' -> '$(snap "$F")'; $(cat "$OUT" "$ERR")"
elif [ "$(grep -c 'Permission denied' "$ERR")" != 3 ] || has touch-failed "$OUT"; then
        fail "want touch -h done and 3 refusals with EACCES: $(cat "$OUT" "$ERR")"
else
        pass
fi

begin "protect: a hard link made in the session (its new name not protected) is the file: truncate, chmod through it and rm of the file refused"
reset_etc
content=$(md5sum <"$F")
pv "$POL" sh -c "ln '$F' '$PR/work/hl' && echo linked; (: > '$PR/work/hl'); chmod 777 '$PR/work/hl'; rm -f '$F'; true"
if ! has linked "$OUT"; then
        fail "the link (its new name is not protected) was refused: $(cat "$ERR")"
elif [ ! -e "$F" ] || [ "$(md5sum <"$F")" != "$content" ] || [ "$(stat -c %a "$F")" != 644 ]; then
        fail "$F: $(stat -c '%a %s %h' "$F" 2>&1) (was 644, $(wc -c <"$PR/work/hl" 2>/dev/null) bytes now through the link); $(cat "$ERR")"
elif [ "$(grep -c 'Permission denied' "$ERR")" != 3 ]; then
        fail "want 3 refusals with EACCES: $(cat "$ERR")"
else
        pass
fi

begin "protect: fd routes: python3 os.truncate(path, 0) and os.fchmod of an O_RDONLY fd refused"
reset_etc
before=$(snap "$F")
pv "$POL" python3 -c '
import errno, os, sys
for name, f in (("truncate", lambda: os.truncate(sys.argv[1], 0)),
                ("fchmod", lambda: os.fchmod(os.open(sys.argv[1], os.O_RDONLY), 0o777)),
                ("fchown", lambda: os.fchown(os.open(sys.argv[1], os.O_RDONLY), 65534, -1))):
    try:
        f()
        print(name, "done")
    except OSError as e:
        print(name, errno.errorcode[e.errno])' "$F"
if [ "$(snap "$F")" != "$before" ]; then
        fail "$F: '$before' -> '$(snap "$F")'; $(cat "$OUT")"
elif [ "$(tr '\n' ' ' <"$OUT")" != "truncate EACCES fchmod EACCES fchown EACCES " ]; then
        fail "want EACCES each: $(cat "$OUT" "$ERR")"
elif ! frec file-truncate-denied truncate truncate "$L_F" "execguard.blocked=$F" ||
        ! frec file-chmod-denied chmod fchmod "$L_F" "execguard.blocked=$F" ||
        ! frec file-chown-denied chown fchown "$L_F" "execguard.blocked=$F"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

# The calls coreutils do not make, by number (x86_64): the legacy ones, RENAME_EXCHANGE and
# RENAME_WHITEOUT, O_RDONLY|O_TRUNC (Linux truncates), O_TMPFILE then a link into the
# directory, the magic links of /proc. As root, only the supervisor says EACCES.
cat >"$PR/calls.py" <<'EOF'
import ctypes, errno, os, sys
# Each operation on a protected name through a call coreutils do not make: the legacy
# x86_64 calls by number, RENAME_EXCHANGE, O_RDONLY|O_TRUNC, O_TMPFILE then a link, magic
# links of /proc. Prints each name and the errno it got ("done" if none).
F, S, EMPTY, OTHER = sys.argv[1:5]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD, AT_EMPTY_PATH, AT_SYMLINK_FOLLOW = -100, 0x1000, 0x400
def sc(nr, *args):
    conv = [ctypes.c_long(a) if isinstance(a, int) else ctypes.c_char_p(a.encode()) for a in args]
    if libc.syscall(ctypes.c_long(nr), *conv) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def tmpfile_link():
    fd = os.open(os.path.dirname(OTHER), os.O_TMPFILE | os.O_WRONLY, 0o644)
    os.write(fd, b"evil\n")
    sc(265, fd, "", AT_FDCWD, S + "/evil", AT_EMPTY_PATH)  # linkat
def proc_link():
    fd = os.open(os.path.dirname(OTHER), os.O_TMPFILE | os.O_WRONLY, 0o644)
    os.link("/proc/self/fd/%d" % fd, S + "/evil", follow_symlinks=True)
def magic(flags):
    return lambda: os.open("/proc/self/fd/%d" % os.open(F, os.O_PATH), flags)
cases = [
    ("open(2) O_WRONLY", lambda: sc(2, F, os.O_WRONLY, 0)),
    ("open(2) O_RDONLY|O_TRUNC", lambda: sc(2, F, os.O_RDONLY | os.O_TRUNC, 0)),
    ("openat O_RDONLY|O_TRUNC", lambda: os.open(F, os.O_RDONLY | os.O_TRUNC)),
    ("creat(85)", lambda: sc(85, F, 0o644)),
    ("creat(85) new in dir", lambda: sc(85, S + "/new", 0o644)),
    ("truncate(76)", lambda: sc(76, F, 0)),
    ("rename(82) away", lambda: sc(82, F, OTHER + ".moved")),
    ("rename(82) over", lambda: sc(82, OTHER, F)),
    ("renameat2 RENAME_EXCHANGE", lambda: sc(316, AT_FDCWD, OTHER, AT_FDCWD, F, 2)),
    ("renameat2 RENAME_WHITEOUT", lambda: sc(316, AT_FDCWD, F, AT_FDCWD, OTHER + ".w", 4)),
    ("link(86) into dir", lambda: sc(86, OTHER, S + "/l")),
    ("symlink(88) into dir", lambda: sc(88, "/x", S + "/s")),
    ("mkdir(83) in dir", lambda: sc(83, S + "/d", 0o755)),
    ("mknod(133) fifo in dir", lambda: sc(133, S + "/p", 0o10644, 0)),
    ("mknodat(259) regular in dir", lambda: sc(259, AT_FDCWD, S + "/r", 0o100644, 0)),
    ("rmdir(84)", lambda: sc(84, EMPTY)),
    ("unlink(87)", lambda: sc(87, F)),
    ("unlinkat AT_REMOVEDIR", lambda: sc(263, AT_FDCWD, EMPTY, 0x200)),
    ("chmod(90)", lambda: sc(90, F, 0o777)),
    ("fchmodat2(452)", lambda: sc(452, AT_FDCWD, F, 0o777, 0)),
    ("fchmodat2 AT_EMPTY_PATH", lambda: sc(452, os.open(F, os.O_PATH), "", 0o777, AT_EMPTY_PATH)),
    ("chown(92)", lambda: sc(92, F, 65534, -1)),
    ("lchown(94)", lambda: sc(94, F, 65534, -1)),
    ("fchownat AT_EMPTY_PATH", lambda: sc(260, os.open(F, os.O_PATH), "", 65534, -1, AT_EMPTY_PATH)),
    ("O_TMPFILE then linkat AT_EMPTY_PATH", tmpfile_link),
    ("O_TMPFILE then link of /proc/self/fd", proc_link),
    ("open /proc/self/fd/N O_WRONLY", magic(os.O_WRONLY)),
    ("chmod /proc/self/fd/N", lambda: os.chmod("/proc/self/fd/%d" % os.open(F, os.O_PATH), 0o777)),
    ("unlink /proc/self/root/...", lambda: os.unlink("/proc/self/root" + F)),
    ("open /proc/self/cwd/... O_WRONLY", lambda: (os.chdir(os.path.dirname(F)), os.open("/proc/self/cwd/" + os.path.basename(F), os.O_WRONLY))),
]
for name, f in cases:
    try:
        f()
        print(name + ": done")
    except OSError as e:
        print(name + ": " + errno.errorcode.get(e.errno, str(e.errno)))
EOF
chmod 644 "$PR/calls.py"
begin "protect: the other calls (legacy x86_64 calls, RENAME_EXCHANGE, O_RDONLY|O_TRUNC, O_TMPFILE + link, /proc magic links): each refused"
if [ "$(uname -m)" != x86_64 ]; then
        not_applicable "the syscall numbers here are x86_64's"
else
        reset_etc
        before="$(snap "$F") $(snap "$SUDOERS") $(snap "$PR/etc/emptydir") $(snap "$PR/work/other")"
        pv "$POL" python3 "$PR/calls.py" "$F" "$SUDOERS" "$PR/etc/emptydir" "$PR/work/other"
        after="$(snap "$F") $(snap "$SUDOERS") $(snap "$PR/etc/emptydir") $(snap "$PR/work/other")"
        if [ "$after" != "$before" ]; then
                fail "changed: '$before' -> '$after'; $(grep -v ': EACCES$' "$OUT")"
        elif [ "$(grep -c ': EACCES$' "$OUT")" != 30 ] || [ "$(wc -l <"$OUT")" != 30 ]; then
                fail "want EACCES for each of 30: $(grep -v ': EACCES$' "$OUT") $(tail -c 300 "$ERR")"
        elif ! frec file-truncate-denied truncate open "$L_F" "execguard.blocked=$F" ||
                ! frec file-rename-denied rename renameat2 "$L_F" "execguard.requested=$PR/work/other" ||
                ! frec file-write-denied write creat "$L_SUDOERS" "execguard.requested=$SUDOERS/new" ||
                ! frec file-link-denied link linkat "$L_SUDOERS" "execguard.target=$SUDOERS/evil"; then
                fail "$(cat "$PR/rec.out")"
        else
                pass
        fi
fi

# The other ABIs a 64-bit process can enter the kernel with: i386 through int 0x80 (its
# own syscall numbers, 32-bit pointers), and x32 (bit 30 in the number). And x32 with a
# pointer above 4 GiB whose low 32 bits name a decoy: a supervisor that read the low half
# would judge the decoy while the kernel acted on the protected file. Each first runs
# unsupervised: where the kernel has no such entry, there is no such attack surface.
cat >"$PR/abi.py" <<'EOF'
import ctypes, errno, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.syscall.restype = ctypes.c_long
MAP_32BIT, MAP_FIXED_NOREPLACE = 0x40, 0x100000
low = libc.mmap(None, 4096, 7, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_32BIT, -1, 0)
# push rbx; mov eax, edi; mov ebx, esi; mov ecx, edx; int 0x80; movsxd rax, eax; pop rbx; ret
code = bytes.fromhex("5389f889f389d1cd804863c05bc3")
ctypes.memmove(low, code, len(code))
int80 = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long)(low)
def put(addr, text):
    b = text.encode() + b"\0"
    ctypes.memmove(addr, b, len(b))
    return addr
abi, op, path = sys.argv[1:4]
arg = {"unlink": 0, "chmod": 0o777, "truncate": os.O_WRONLY | os.O_TRUNC}[op]
p = put(low + 1024, path)
if abi == "i386":
    r = int80({"unlink": 10, "chmod": 15, "truncate": 5}[op], p, arg)
    err = -r if r < 0 else 0
else:
    if abi == "x32-high":
        high = libc.mmap(ctypes.c_void_p((1 << 32) + low), 4096, 3,
                         mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
        if high != (1 << 32) + low:
            print(abi, op, "no-mapping")
            sys.exit()
        put(low + 1024, sys.argv[4])
        p = put(high + 1024, path)
    r = libc.syscall(ctypes.c_long({"unlink": 87, "chmod": 90, "truncate": 2}[op] | 0x40000000), ctypes.c_long(p),
                     ctypes.c_long(arg))
    err = ctypes.get_errno() if r < 0 else 0
print(abi, op, errno.errorcode.get(err, err) if err else "ok")
EOF
chmod 644 "$PR/abi.py"
for abi in i386 x32 x32-high; do
        begin "protect: the $abi ABI: unlink, chmod, open O_TRUNC of a protected file refused"
        printf 'scratch\n' >"$PR/work-abi-ctl"
        printf 'decoy\n' >"$PR/work-abi-decoy"
        { python3 "$PR/abi.py" "$abi" unlink "$PR/work-abi-ctl" "$PR/work-abi-decoy"; } >"$PR/abi.ctl" 2>&1
        abi_rc=$?
        if [ "$abi_rc" -gt 128 ]; then
                not_applicable "unsupervised it is killed by signal $((abi_rc - 128)) here: no such entry"
                continue
        elif ! grep -qx "$abi unlink ok" "$PR/abi.ctl" || [ -e "$PR/work-abi-ctl" ]; then
                not_applicable "unsupervised it does not work here: $(tail -c 200 "$PR/abi.ctl")"
                continue
        fi
        reset_etc
        before=$(snap "$F")
        printf 'decoy\n' >"$PR/work/decoy"
        pv "$POL" sh -c "for op in unlink chmod truncate; do python3 '$PR/abi.py' $abi \$op '$F' '$PR/work/decoy'; done"
        if [ "$(snap "$F")" != "$before" ] || [ "$(cat "$PR/work/decoy" 2>&1)" != decoy ]; then
                fail "$(cat "$OUT" "$ERR"); $F: '$before' -> '$(snap "$F")'; decoy: $(cat "$PR/work/decoy" 2>&1)"
        elif [ "$(tr '\n' ' ' <"$OUT")" != "$abi unlink EACCES $abi chmod EACCES $abi truncate EACCES " ]; then
                fail "want EACCES each: $(cat "$OUT" "$ERR")"
        else
                pass
        fi
done
rm -f "$PR/work-abi-ctl" "$PR/work-abi-decoy"

# ---- dir =, and globs ---------------------------------------------------------------------

begin "protect: dir =: the directory itself: rmdir and mv refused; nothing new inside it"
reset_etc
before=$(snap "$CRON")
pv "$POL" sh -c "rmdir '$CRON'; mv '$CRON' '$PR/work/cron.d'; touch '$CRON/new'; mkdir '$CRON/sub'; ln -s x '$CRON/sl'; mkfifo '$CRON/fifo'; true"
if [ "$(snap "$CRON")" != "$before" ] || [ -e "$PR/work/cron.d" ]; then
        fail "$CRON: '$before' -> '$(snap "$CRON")'; $(cat "$ERR")"
elif [ "$(grep -c 'Permission denied' "$ERR")" != 6 ]; then
        fail "want 6 refusals with EACCES: $(cat "$ERR")"
elif ! frec file-delete-denied unlink "rmdir|unlinkat" "$L_CRON" "execguard.blocked=$CRON" ||
        ! frec file-rename-denied rename "renameat2|renameat|rename" "$L_CRON" "execguard.requested=$CRON" ||
        ! frec file-write-denied write "openat|open|creat" "$L_CRON" "execguard.requested=$CRON/new" ||
        ! frec file-write-denied write "mkdir|mkdirat" "$L_CRON" "execguard.requested=$CRON/sub" ||
        ! frec file-write-denied write "mknod|mknodat" "$L_CRON" "execguard.requested=$CRON/fifo"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

begin "protect: dir =: everything beneath it: rm, truncate, chmod of children and grandchildren refused"
reset_etc
before="$(snap "$SUDOERS/admins") $(snap "$SUDOERS/deep/x") $(snap "$SUDOERS/deep")"  # deep: its names
pv "$POL" sh -c "rm -f '$SUDOERS/admins' '$SUDOERS/deep/x'; (: > '$SUDOERS/deep/x'); chmod 666 '$SUDOERS/admins'; mv '$SUDOERS/deep/x' '$SUDOERS/deep/y'; true"
after="$(snap "$SUDOERS/admins") $(snap "$SUDOERS/deep/x") $(snap "$SUDOERS/deep")"
if [ "$after" != "$before" ]; then
        fail "'$before' -> '$after'; $(cat "$ERR")"
elif [ "$(grep -c 'Permission denied' "$ERR")" != 5 ]; then
        fail "want 5 refusals with EACCES: $(cat "$ERR")"
elif ! frec file-delete-denied unlink unlinkat "$L_SUDOERS" "execguard.requested=$SUDOERS/deep/x" \
        "execguard.blocked=$SUDOERS/deep/x|$SUDOERS"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

begin "protect: rename: moving a directory that holds a protected path is refused"
reset_etc
before=$(snap "$PR/etc")
pv "$POL" mv "$PR/etc" "$PR/etc.moved"
if [ -e "$PR/etc.moved" ]; then
        fail "moved (rc=$RC)"
        mv "$PR/etc.moved" "$PR/etc"
else
        refused "$PR/etc" "$before" file-rename-denied rename "renameat2|renameat|rename" \
                "$L_F|$L_EMPTY|$L_PRELOAD|$L_GLOB|$L_SUDOERS|$L_CRON" "execguard.requested=$PR/etc"
fi

begin "protect: glob (path = DIR/*_config): matched names refused, others and deeper ones (FNM_PATHNAME) not"
reset_etc
before=$(snap "$PR/etc/ssh/ssh_config")
pv "$POL" sh -c "rm -f '$PR/etc/ssh/ssh_config' && echo removed-ssh_config; rm '$PR/etc/ssh/moduli' && echo removed-moduli; rm '$PR/etc/ssh/sub/y_config' && echo removed-y_config; echo n > '$PR/etc/ssh/new_config' && echo created-new_config"
if [ "$(snap "$PR/etc/ssh/ssh_config")" != "$before" ] || has removed-ssh_config "$OUT" || has created-new_config "$OUT" ||
        [ -e "$PR/etc/ssh/new_config" ]; then
        fail "a matched name was changed: $(cat "$OUT") $(ls "$PR/etc/ssh")"
elif ! has removed-moduli "$OUT" || ! has removed-y_config "$OUT" || [ -e "$PR/etc/ssh/moduli" ]; then
        fail "an unmatched name was not removed: $(cat "$OUT" "$ERR")"
elif ! frec file-delete-denied unlink unlinkat "$L_GLOB" "execguard.blocked=$PR/etc/ssh/ssh_config" ||
        ! frec file-write-denied write "openat|open|creat" "$L_GLOB" "execguard.requested=$PR/etc/ssh/new_config"; then
        fail "$(cat "$PR/rec.out")"
else
        pass
fi

# ---- what is not protected: done, exactly as the kernel would do it -----------------------

# same_as_unsupervised NAME FIXTURE SCRIPT [PREFIX...]: SCRIPT run in a fresh FIXTURE
# directory without execguard and in another under the protecting policy (through PREFIX,
# e.g. setpriv to nobody) must say the same (each operation's status and message) and leave
# the same tree (names, types, owners, modes, sizes, link targets, contents). Sets SAME_OUT
# to the supervised run's output.
tree_state() {
        (cd "$1" && find . -printf '%p %y %u:%g %m %s %n %l\n' | sort &&
                find . -type f -exec md5sum {} + | sort -k 2)
}
same_as_unsupervised() {
        local name=$1 fixture=$2 script=$3
        shift 3
        rm -rf "$PR/plain" "$PR/sup"
        "$fixture" "$PR/plain"
        "$fixture" "$PR/sup"
        (cd "$PR/plain" && timeout 60 "$@" sh "$script") >"$PR/plain.out" 2>&1 </dev/null
        : >"$PA"
        (cd "$PR/sup" && timeout 60 "$EG" run -c "$POL" -- "$@" sh "$script") >"$PR/sup.out" 2>"$ERR" </dev/null
        RC=$?
        SAME_OUT=$PR/sup.out
        tree_state "$PR/plain" >"$PR/plain.tree"
        tree_state "$PR/sup" >"$PR/sup.tree"
        if [ "$RC" != 0 ]; then
                fail "$name: execguard run: rc=$RC $(cat "$ERR")"
        elif ! diff "$PR/plain.out" "$PR/sup.out" >"$PR/diff"; then
                fail "$name: what the operations said differs (< without execguard, > under it): $(cat "$PR/diff")"
        elif ! diff "$PR/plain.tree" "$PR/sup.tree" >"$PR/diff"; then
                fail "$name: the tree differs (< without execguard, > under it): $(cat "$PR/diff")"
        elif ! rec --no-file; then
                fail "$name: a file operation was recorded: $(cat "$PR/rec.out")"
        else
                return 0
        fi
        return 1
}
cat >"$PR/try.sh" <<'EOF'
# try CMD...: CMD, then what it said and its status, on one line.
try() {
        out=$("$@" 2>&1)
        echo "$*: rc=$? $out"
}
EOF

root_fixture() {
        mkdir -p "$1/sub" "$1/tree/y" "$1/rel"
        chmod 755 "$1" "$1/sub" "$1/tree" "$1/tree/y" "$1/rel"
        printf 'gone\n' >"$1/gone"
        printf 'one\n' >"$1/a"
        printf 'full\n' >"$1/t"
        printf 'a\n' >"$1/ap"
        printf 'c\n' >"$1/c"
        printf 'h\n' >"$1/h"
        printf 'abcdef\n' >"$1/ts"
        printf 'x\n' >"$1/tree/x"
        printf 'z\n' >"$1/tree/y/z"
        printf 'old\n' >"$1/over"
        printf 'newer\n' >"$1/other"
        chmod 644 "$1"/* "$1"/tree/x "$1"/tree/y/z 2>/dev/null
        chmod 755 "$1/sub" "$1/tree" "$1/rel"
        chmod 640 "$1/a" "$1/ts"
        chmod 600 "$1/t"
        chown nobody:nogroup "$1/h"
}
cat >"$PR/root.sh" <<EOF
. '$PR/try.sh'
umask 022
try rm gone
try mv a sub/a2
try sh -c ': > t'
try sh -c 'echo x >> ap'
try chmod 750 c
try chown nobody:nogroup c
try ln h h2
try ln -s ../rel/target sl
try mkdir nd
try mkdir -m 700 nd2
try sh -c 'echo new > new'
try truncate -s 3 ts
try truncate -s 10 t
try python3 -c 'open("py", "w").write("py\\n")'
try mv -f other over
umask 077
try sh -c 'echo private > priv'
try mkdir privd
try mkfifo fifo
try mv nd2 sub/nd2
try rmdir nd
try rm -r tree
try ln -sf new sl
try rm gone
try mkdir sub
try ln h sub
try chmod 755 nothing
EOF

begin "protect: not protected (root): rm, mv, truncate, append, chmod, chown, ln, ln -s, mkdir, mkfifo done exactly as without execguard"
if same_as_unsupervised "root" root_fixture "$PR/root.sh"; then
        # The diff holds against a supervisor that does what the kernel does; a few exact
        # values besides, against one that does nothing (and then neither does the kernel).
        s=$PR/sup
        if [ -e "$s/gone" ] || [ "$(cat "$s/sub/a2")" != one ] || [ "$(stat -c %a "$s/sub/a2")" != 640 ] ||
                [ "$(stat -c %s "$s/t")" != 10 ] || [ "$(cat "$s/ap")" != "$(printf 'a\nx')" ] ||
                [ "$(stat -c '%a %U' "$s/c")" != "750 nobody" ] || [ "$(stat -c %i "$s/h")" != "$(stat -c %i "$s/h2")" ] ||
                [ "$(readlink "$s/sl")" != new ] || [ "$(stat -c '%a %U' "$s/new")" != "644 root" ] ||
                [ "$(cat "$s/ts")" != abc ] || [ "$(stat -c %a "$s/priv")" != 600 ] ||
                [ "$(stat -c %a "$s/privd")" != 700 ] || [ "$(stat -c %a "$s/sub/nd2")" != 700 ] ||
                [ "$(cat "$s/over")" != newer ] || [ -e "$s/tree" ] || [ "$(stat -c %F "$s/fifo")" != fifo ]; then
                fail "a result is not what the kernel gives: $(tree_state "$s")"
        else
                pass
        fi
fi

nobody_fixture() {
        mkdir -p "$1/rootdir"
        chmod 1777 "$1"
        chmod 755 "$1/rootdir"
        printf 'root\n' >"$1/rootfile"
        printf 'ww\n' >"$1/rootww"
        printf 's\n' >"$1/secret"
        printf 'f\n' >"$1/rootdir/f"
        printf 'nb\n' >"$1/nbfile"
        chmod 644 "$1/rootfile" "$1/rootdir/f" "$1/nbfile"
        chmod 666 "$1/rootww"
        chmod 600 "$1/secret"
        chown nobody:nogroup "$1/nbfile"
}
cat >"$PR/nobody.sh" <<EOF
. '$PR/try.sh'
umask 027
try rm -f rootfile
try mv rootfile stolen
try sh -c ': > rootfile'
try sh -c 'echo x >> rootww'
try chmod 777 rootww
try chown nobody rootww
try ln secret hardlink
try ln -s rootfile symlink
try touch rootdir/new
try mkdir rootdir/newdir
try rm -f rootdir/f
try mv nbfile rootdir/nbfile
try sh -c 'echo new > nbnew'
try mkdir nbdir
try mkfifo nbfifo
try mv nbfile nbmoved
try sh -c 'echo more >> nbmoved'
try chmod 604 nbmoved
try ln nbmoved nbhard
try truncate -s 1 nbnew
try rm -f nbhard
EOF

begin "protect: not protected (nobody, umask 027, sticky world-writable dir): the same as without execguard, with nobody's own permissions"
# shellcheck disable=SC2086 # AS_NOBODY is words
if same_as_unsupervised "nobody" nobody_fixture "$PR/nobody.sh" $AS_NOBODY; then
        s=$PR/sup
        if ! has "rm -f rootfile: rc=1 rm: cannot remove 'rootfile': Operation not permitted" "$SAME_OUT" ||
                [ "$(stat -c '%U:%G %a' "$s/nbnew")" != "nobody:nogroup 640" ] ||
                [ "$(stat -c '%U:%G %a' "$s/nbdir")" != "nobody:nogroup 750" ] ||
                [ "$(stat -c '%U:%G' "$s/symlink")" != "nobody:nogroup" ] || [ "$(cat "$s/rootfile")" != root ] ||
                ! has "touch rootdir/new: rc=1" "$SAME_OUT" || [ -e "$s/rootdir/new" ] || [ "$(cat "$s/nbnew")" != n ]; then
                fail "a result is not what the kernel gives nobody: $(cat "$SAME_OUT"; tree_state "$s")"
        else
                pass
        fi
fi

caps_fixture() {
        mkdir -p "$1/nbdir" "$1/rootdir"
        chmod 755 "$1" "$1/nbdir" "$1/rootdir"
        printf 's\n' >"$1/nbfile"
        printf 'f\n' >"$1/nbdir/f"
        printf 'r\n' >"$1/rootdir/r"
        chmod 600 "$1/nbfile"
        chmod 644 "$1/nbdir/f" "$1/rootdir/r"
        chown -R nobody:nogroup "$1/nbfile" "$1/nbdir"
}
cat >"$PR/caps.sh" <<EOF
. '$PR/try.sh'
umask 022
try sh -c 'echo x >> nbfile'
try chmod 644 nbfile
try chown root nbfile
try rm -f nbdir/f
try touch nbdir/new
try mkdir nbdir/d
try mv nbdir/f nbdir/g
try ln -s x nbdir/sl
try sh -c 'echo root >> rootdir/r'
try chmod 600 rootdir/r
try mkdir rootdir/d
try sh -c 'echo new > rootdir/new'
EOF

begin "protect: not protected (root without CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN): the same as without execguard"
if same_as_unsupervised "root without capabilities" caps_fixture "$PR/caps.sh" \
        setpriv --bounding-set=-dac_override,-dac_read_search,-fowner,-chown --; then
        if ! grep -q "^chmod 644 nbfile: rc=1 " "$SAME_OUT"; then
                fail "chmod of nobody's file without CAP_FOWNER was done: $(cat "$SAME_OUT")"
        elif [ "$(cat "$PR/sup/nbfile")" != s ] || [ -e "$PR/sup/nbdir/new" ] || [ ! -e "$PR/sup/rootdir/new" ]; then
                fail "a result is not what the kernel gives: $(tree_state "$PR/sup")"
        else
                pass
        fi
fi

GRP=users
grp_fixture() {
        mkdir -p "$1/setgid" "$1/grponly"
        chmod 1777 "$1"
        chown root:"$GRP" "$1/setgid" "$1/grponly"
        chmod 2775 "$1/setgid"
        chmod 0770 "$1/grponly"
}
cat >"$PR/grp.sh" <<EOF
. '$PR/try.sh'
umask 027
try sh -c 'echo g > setgid/f'
try mkdir setgid/d
try sh -c 'echo g > grponly/f'
try mkdir grponly/d
try mkfifo setgid/p
try chmod 2770 grponly/d
try sh -c 'echo own > own'
try chgrp $GRP own
EOF

begin "protect: not protected (nobody with a supplementary group; a setgid directory): the same as without execguard"
if ! getent group "$GRP" >/dev/null; then
        skip "no group $GRP"
elif same_as_unsupervised "supplementary group" grp_fixture "$PR/grp.sh" \
        setpriv --reuid=nobody --regid=nogroup --groups="$GRP" --; then
        if [ "$(stat -c '%U:%G %a' "$PR/sup/setgid/f")" != "nobody:$GRP 640" ] ||
                [ "$(stat -c '%G %a' "$PR/sup/setgid/d")" != "$GRP 2750" ] ||
                [ "$(stat -c '%U:%G' "$PR/sup/grponly/f")" != "nobody:nogroup" ] ||
                [ "$(stat -c '%G' "$PR/sup/own")" != "$GRP" ]; then
                fail "a result is not what the kernel gives: $(cat "$SAME_OUT"; tree_state "$PR/sup")"
        else
                pass
        fi
fi

begin "protect: nobody cannot unlink a root-owned file in a sticky directory (EPERM, as without execguard)"
rm -rf "$PR/sticky"
nobody_fixture "$PR/sticky"
# shellcheck disable=SC2086
pv "$POL" $AS_NOBODY rm -f "$PR/sticky/rootfile"
[ "$RC" = 1 ] && has "Operation not permitted" "$ERR" && [ "$(cat "$PR/sticky/rootfile")" = root ] && rec --no-file &&
        pass || fail "rc=$RC $(cat "$ERR") $(cat "$PR/rec.out")"

# ---- who: [protect:user:NAME], [protect:group:NAME] ---------------------------------------

mkdir -p "$PR/open"
chmod 1777 "$PR/open"
cat >"$PR/who.ini" <<EOF
[execguard]
mode = enforce
log_file = $PA

[protect:user:nobody]
deny = unlink
path = $PR/open/nobody-protected

[protect:group:nogroup]
deny = unlink, rename
path = $PR/open/nogroup-protected
EOF
chmod 644 "$PR/who.ini"
L_WHO_USER=$(line_of "$PR/who.ini" "path = $PR/open/nobody-protected")
L_WHO_GROUP=$(line_of "$PR/who.ini" "path = $PR/open/nogroup-protected")
who_files() {
        for f in nobody-protected nogroup-protected; do
                printf '%s\n' "$f" >"$PR/open/$f"
                chown nobody:nogroup "$PR/open/$f"
        done
}

begin "protect: [protect:user:nobody]: nobody's unlink refused, root's done"
who_files
# shellcheck disable=SC2086
pv "$PR/who.ini" $AS_NOBODY rm -f "$PR/open/nobody-protected"
nobody_rc=$RC
FREC_POLICY=$PR/who.ini frec file-delete-denied unlink unlinkat "$L_WHO_USER"
rec_rc=$?
pv "$PR/who.ini" rm -f "$PR/open/nobody-protected"
if [ "$nobody_rc" = 0 ] || [ "$RC" != 0 ] || [ -e "$PR/open/nobody-protected" ] || [ "$rec_rc" != 0 ]; then
        fail "nobody rc=$nobody_rc (want refused), root rc=$RC (want 0), exists: $([ -e "$PR/open/nobody-protected" ] && echo yes || echo no); $(cat "$ERR" "$PR/rec.out")"
else
        pass
fi

begin "protect: [protect:group:nogroup]: its member's rename refused, root's done"
who_files
# shellcheck disable=SC2086
pv "$PR/who.ini" $AS_NOBODY mv "$PR/open/nogroup-protected" "$PR/open/moved"
nobody_rc=$RC
FREC_POLICY=$PR/who.ini frec file-rename-denied rename "renameat2|renameat|rename" "$L_WHO_GROUP"
rec_rc=$?
pv "$PR/who.ini" mv "$PR/open/nogroup-protected" "$PR/open/moved"
if [ "$nobody_rc" = 0 ] || [ "$RC" != 0 ] || [ ! -e "$PR/open/moved" ] || [ "$rec_rc" != 0 ]; then
        fail "nogroup rc=$nobody_rc (want refused), root rc=$RC (want 0); $(cat "$ERR" "$PR/rec.out")"
else
        pass
fi
rm -f "$PR/open/moved"

# ---- sessions with no [protect], audit mode, action = kill --------------------------------

cp "$H/marker" "$PR/blocked-program"
chmod 755 "$PR/blocked-program"
cat >"$PR/none.ini" <<EOF
[execguard]
mode = enforce
log_file = $PA

[block]
path = $PR/blocked-program
EOF
chmod 644 "$PR/none.ini"

begin "protect: a session whose policy has no [protect] can unlink everything"
reset_etc
pv "$PR/none.ini" sh -c "rm -rf '$PR/etc' && mv '$PR/work/other' '$PR/work/moved' && echo done"
[ "$RC" = 0 ] && has "done" "$OUT" && [ ! -e "$PR/etc" ] && rec --no-file && pass ||
        fail "rc=$RC $(cat "$ERR" "$PR/rec.out")"

# What the filter cannot judge (openat2's flags in memory; io_uring, which never passes
# through seccomp) is refused with ENOSYS in a session that protects against it, and only
# there. The control: the same calls unsupervised.
cat >"$PR/sys.py" <<'EOF'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
how = (ctypes.c_uint64 * 3)(os.O_RDONLY, 0, 0)
r = libc.syscall(ctypes.c_long(437), ctypes.c_int(-100), sys.argv[1].encode(), ctypes.byref(how), ctypes.c_size_t(24))
print("openat2", "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])
params = (ctypes.c_uint8 * 120)()
r = libc.syscall(ctypes.c_long(425), ctypes.c_uint32(1), ctypes.byref(params))
print("io_uring_setup", "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])
EOF
chmod 644 "$PR/sys.py"
begin "protect: openat2 and io_uring_setup: ENOSYS where [protect] needs it, working elsewhere"
if [ "$(uname -m)" != x86_64 ]; then
        not_applicable "the syscall numbers here are x86_64's"
else
        reset_etc
        python3 "$PR/sys.py" "$PR/work/other" >"$PR/sys.plain" 2>&1
        pv "$PR/none.ini" python3 "$PR/sys.py" "$PR/work/other"
        cp "$OUT" "$PR/sys.none"
        pv "$PR/only-unlink.ini" python3 "$PR/sys.py" "$PR/work/other"
        cp "$OUT" "$PR/sys.unlink"
        pv "$POL" python3 "$PR/sys.py" "$PR/work/other"
        cp "$OUT" "$PR/sys.all"
        uring=$(sed -n 's/^io_uring_setup //p' "$PR/sys.plain")
        if ! grep -qx 'openat2 ok' "$PR/sys.plain"; then
                not_applicable "openat2 does not work here unsupervised: $(cat "$PR/sys.plain")"
        elif ! diff "$PR/sys.plain" "$PR/sys.none" >/dev/null; then
                fail "no [protect]: $(cat "$PR/sys.none") (unsupervised: $(cat "$PR/sys.plain"))"
        elif [ "$(cat "$PR/sys.unlink")" != "$(printf 'openat2 ok\nio_uring_setup ENOSYS')" ]; then
                fail "deny = unlink: want openat2 ok, io_uring_setup ENOSYS; got $(cat "$PR/sys.unlink") (unsupervised: io_uring_setup $uring)"
        elif [ "$(cat "$PR/sys.all")" != "$(printf 'openat2 ENOSYS\nio_uring_setup ENOSYS')" ]; then
                fail "deny = all: want ENOSYS for both; got $(cat "$PR/sys.all")"
        else
                pass
        fi
fi

begin "protect: mode = audit: the unlink happens and is recorded as file-delete-audited"
reset_etc
pv "$PR/audit.ini" rm "$F"
[ "$RC" = 0 ] && [ ! -e "$F" ] &&
        FREC_POLICY=$PR/audit.ini frec file-delete-audited unlink unlinkat "$L_F" "execguard.blocked=$F" && pass ||
        fail "rc=$RC exists=$([ -e "$F" ] && echo yes || echo no) $(cat "$ERR" "$PR/rec.out")"

begin "protect: the refusal reaches syslog too, with the same fields"
if [ -n "${SYSLOG:-}" ]; then
        reset_etc
        pv "$POL" rm -f "$F"
        sleep 0.2
        grep -F "blocked=\"$F\" rule=\"$POL:$L_F\"" "$SYSLOG" | grep -q '^.*decision=deny .*operation="unlink" syscall="unlinkat"' &&
                pass || fail "$(tail -n 2 "$SYSLOG")"
else
        skip "no syslog sink (needs root)"
fi

begin "protect: action = kill: the process that unlinks is killed, the file intact, file-delete-killed"
reset_etc
before=$(snap "$F")
pv "$PR/kill.ini" sh -c "rm -f '$F'; echo rm=\$?"
[ "$(snap "$F")" = "$before" ] && has "rm=137" "$OUT" &&
        FREC_POLICY=$PR/kill.ini frec file-delete-killed unlink unlinkat "$(line_of "$PR/kill.ini" "path = $F")" \
                "execguard.blocked=$F" && pass ||
        fail "$(cat "$OUT" "$ERR" "$PR/rec.out"); $F: '$before' -> '$(snap "$F")'"

# ---- execguard check --op -----------------------------------------------------------------

begin "protect: check --op unlink of a protected path: blocked, by which rule, exit 1"
reset_etc
"$EG" check -c "$POL" --op unlink "$F" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && grep -qxF "$F: unlink blocked by $POL:$L_F (path = $F) in [protect]" "$OUT" && pass ||
        fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "protect: check --op write of a new name in a protected directory: blocked by the dir rule"
"$EG" check -c "$POL" --op write "$SUDOERS/new" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && grep -qxF "$SUDOERS/new: write blocked by $POL:$L_SUDOERS (dir = $SUDOERS) in [protect]" "$OUT" && pass ||
        fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "protect: check --op unlink of an unprotected path: allowed, exit 0"
"$EG" check -c "$POL" --op unlink "$PR/work/other" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && grep -qxF "$PR/work/other: unlink allowed (no protect rule matches)" "$OUT" && pass ||
        fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "protect: check --op of several paths: each said, exit 1 if any is blocked"
"$EG" check -c "$POL" --op chmod "$PR/work/other" "$F" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 1 ] && has "$PR/work/other: chmod allowed" "$OUT" && has "$F: chmod blocked by $POL:$L_F" "$OUT" && pass ||
        fail "rc=$RC $(cat "$OUT" "$ERR")"

begin "protect: check --op with --user: [protect:user:nobody] blocks nobody, not root"
"$EG" check -c "$PR/who.ini" --op unlink --user nobody "$PR/open/nobody-protected" >"$OUT" 2>"$ERR"
RC=$?
"$EG" check -c "$PR/who.ini" --op unlink --user root "$PR/open/nobody-protected" >"$PR/check2.out" 2>>"$ERR"
RC2=$?
[ "$RC" = 1 ] && has "unlink blocked by $PR/who.ini:$L_WHO_USER (path = $PR/open/nobody-protected) in [protect:user:nobody]" "$OUT" &&
        [ "$RC2" = 0 ] && has "unlink allowed" "$PR/check2.out" && pass ||
        fail "nobody rc=$RC $(cat "$OUT"); root rc=$RC2 $(cat "$PR/check2.out" "$ERR")"

begin "protect: check --op bogus: exit 2 with an error"
"$EG" check -c "$POL" --op bogus "$F" >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 2 ] && [ -s "$ERR" ] && ! has "blocked" "$OUT" && pass || fail "rc=$RC $(cat "$OUT" "$ERR")"

# ---- racers: what the operation names is swapped while the supervisor looks ---------------
# ALLOWED and PROTECTED share their name (the directory-symlink, cwd and dirfd racers switch
# the directory).
# Each racer first runs unsupervised against a copy: it must do harm there.

RACE_ATTEMPTS=${EXECGUARD_PROTECT_RACE_ATTEMPTS:-2000}
RACE_SECONDS=${EXECGUARD_PROTECT_RACE_SECONDS:-20}
mkdir -p "$PR/race-ok" "$PR/race" "$PR/ctl/etc" "$PR/ctl/ok"
chmod 755 "$PR/race-ok" "$PR/race" "$PR/ctl" "$PR/ctl/etc" "$PR/ctl/ok"
# The path string and a symlink on every operation that acts on a name or opens; the working
# directory and a directory fd on one of each.
for race in "string unlink" "string truncate" "string write" "string rename" "symlink unlink" "symlink truncate" \
        "symlink write" "symlink rename" "cwd unlink" "cwd truncate" "dirfd unlink" "dirfd truncate"; do
        mode=${race% *} op=${race#* }
        begin "protect: racer $mode $op: the protected file is never harmed (${RACE_ATTEMPTS} attempts or ${RACE_SECONDS} s)"
        printf 'Port 22\n' >"$PR/ctl/etc/sshd_config"
        chmod 644 "$PR/ctl/etc/sshd_config"
        rm -f "$PR/ctl/ok"/* "$PR/ctl/ok"/.file-racer* "$PR/ctl/link"*
        timeout 60 "$H/file-racer" "$mode" "$op" "$PR/ctl/ok/sshd_config" "$PR/ctl/etc/sshd_config" 2000 10 \
                "$PR/ctl/link" >"$PR/ctl.out" 2>&1
        CTL_RC=$?
        reset_etc
        rm -f "$PR/race-ok"/* "$PR/race-ok"/.file-racer* "$PR/race/link"*
        before=$(snap "$F")
        pv "$POL" "$H/file-racer" "$mode" "$op" "$PR/race-ok/sshd_config" "$F" "$RACE_ATTEMPTS" \
                "$RACE_SECONDS" "$PR/race/link"
        tally=$(grep " protected harmed" "$OUT")
        n=$(printf '%s' "$tally" | sed -n 's/^[a-z]* [a-z]*: \([0-9]*\) attempts.*/\1/p')
        done_n=$(printf '%s' "$tally" | sed -n 's/.* \([0-9]*\) allowed done.*/\1/p')
        refused_n=$(printf '%s' "$tally" | sed -n 's/.* \([0-9]*\) refused.*/\1/p')
        phantom_n=$(printf '%s' "$tally" | sed -n 's/.* \([0-9]*\) phantom.*/\1/p')
        if [ "$CTL_RC" != 1 ]; then
                fail "unsupervised, the racer did no harm (rc=$CTL_RC): the attack is not live: $(cat "$PR/ctl.out")"
        elif [ "$RC" != 0 ] || [ "$(snap "$F")" != "$before" ]; then
                fail "rc=$RC $(cat "$OUT") $(tail -c 300 "$ERR"); $F: '$before' -> '$(snap "$F")'"
        elif [ -z "$n" ] || [ "$n" -lt 100 ]; then
                fail "too few attempts: $(cat "$OUT" "$ERR")"
        elif [ $((done_n * 2)) -le "$n" ] || [ "$refused_n" -lt 1 ]; then
                fail "the race is not live (want the allowed side done in most attempts, and some refused): $tally"
        elif [ "$phantom_n" != 0 ]; then
                fail "an operation said it succeeded but was done to neither file: $tally"
        else
                pass
                printf '     %s (unsupervised: %s)\n' "$tally" "$(cat "$PR/ctl.out")"
        fi
done

# ---- under the daemon ------------------------------------------------------------------------
# The daemon tells each session's wrapper what to trap (its HELLO reply), decides with its
# workers, and performs what it allows for processes of other users than its own.
type start_daemon >/dev/null 2>&1 || . "$HERE/daemon-lib.sh"
start_notify_sink
DPOL=$PR/daemon.ini
sed -e "s|^log_file = .*|log_file = $PR/daemon-audit.json|" -e 's|^\[execguard\]$|[execguard]\nworkers = 2|' \
        "$POL" >"$DPOL"
chmod 644 "$DPOL"
: >"$PR/daemon-audit.json"
begin "protect: under the daemon: a session's rm refused and recorded, unprotected operations done for nobody"
reset_etc
chmod 1777 "$PR/work"
before=$(snap "$F")
if ! start_daemon "$DPOL"; then
        fail "the daemon did not start: $(tail -n 5 "$DLOG")"
else
        dv $AS_NOBODY sh -c "umask 027; rm -f '$F'; echo rm=\$?; echo n >'$PR/work/n' && mv '$PR/work/n' '$PR/work/m' &&
                stat -c '%U %a %s' '$PR/work/m'"
        if [ "$(snap "$F")" != "$before" ]; then
                fail "$F: '$before' -> '$(snap "$F")'"
        elif ! has "rm=1" "$OUT" || ! has "nobody 640 2" "$OUT"; then
                fail "rc=$RC $(cat "$OUT" "$ERR")"
        elif ! json_check "$PR/daemon-audit.json" \
                "any(get(r, 'event.action') == 'file-delete-denied' and get(r, 'user.id') == '65534' and
                     get(r, 'rule.name') == '$DPOL:$((L_F + 1))' for r in recs)"; then
                fail "no record: $(cat "$PR/daemon-audit.json")"
        else
                pass
        fi
fi

begin "protect: under the daemon's workers: racer string unlink, the protected file is never harmed (500 attempts)"
reset_etc
rm -rf "$PR/race-ok" && mkdir -p "$PR/race-ok" "$PR/race" && chmod 755 "$PR/race-ok" "$PR/race"
before=$(snap "$F")
if [ -z "$DAEMON_PID" ]; then
        skip "no daemon"
else
        dv "$H/file-racer" string unlink "$PR/race-ok/sshd_config" "$F" 500 20 "$PR/race/link"
        tally=$(grep " protected harmed" "$OUT")
        if [ "$RC" != 0 ] || [ "$(snap "$F")" != "$before" ]; then
                fail "rc=$RC $(cat "$OUT") $(tail -c 300 "$ERR"); $F: '$before' -> '$(snap "$F")'"
        elif ! printf '%s' "$tally" | grep -q " 0 protected harmed"; then
                fail "$tally"
        else
                pass
                printf '     %s\n' "$tally"
        fi
fi
stop_daemon
kill "$NOTIFY_SINK" 2>/dev/null
wait "$NOTIFY_SINK" 2>/dev/null
