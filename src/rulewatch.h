/* Watching the files the policy's path rules name, so that a blocked file replaced where it
 * stands (a package upgrade, an administrator's cp) is identified again: its new device,
 * inode and content are blocked from then on (policy_reidentify()).
 *
 * inotify on the directory of each rule's file, for its name (created, moved in or out,
 * deleted), and on the file itself, for the inode it is now (written, attributes or links
 * changed). The supervisor reads the events before it serves a notification: an event is
 * queued when the file system changes, so a change made before an exec is always seen
 * before that exec is judged. */
#pragma once

#include "policy.h"

struct rule_watch;

/* Watch the directories of p's path rules. Directories that do not exist (or cannot be
 * watched) are skipped with a warning. Returns 0 or -errno. */
int rule_watch_new(const struct policy *p, struct rule_watch **ret);
void rule_watch_free(struct rule_watch *w);
static inline void rule_watch_freep(struct rule_watch **w) {
        rule_watch_free(*w);
}

/* Watch the files of p's rules as they are now: after a rule's file was replaced, before it
 * is identified again, so that a write to the new file is an event too. Files that are not
 * there, or cannot be watched, are skipped (the latter with a warning). */
void rule_watch_files(struct rule_watch *w, const struct policy *p);

/* The inotify fd to poll. */
int rule_watch_fd(const struct rule_watch *w);

/* Read every pending event. Returns 1 if one of them concerns a file a rule names (the
 * policy must be identified again), 0 if not, or -errno. */
int rule_watch_drain(struct rule_watch *w);
