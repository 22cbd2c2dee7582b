/* Watching the files the policy's path rules name, so that a blocked file replaced where it
 * stands (a package upgrade, an administrator's cp) is identified again: its new device,
 * inode and content are blocked from then on (policy_reidentify()).
 *
 * inotify on the directory of each rule's file: creating, moving, writing or deleting the
 * file are all events of its directory. The supervisor reads the events before it serves
 * a notification: an event is queued when the file system changes, so a change made before
 * an exec is always seen before that exec is judged. */
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

/* The inotify fd to poll. */
int rule_watch_fd(const struct rule_watch *w);

/* Read every pending event. Returns 1 if one of them concerns a file a rule names (the
 * policy must be identified again), 0 if not, or -errno. */
int rule_watch_drain(struct rule_watch *w);
