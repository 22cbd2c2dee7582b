/* Privileges of the wrapper and of the command it starts (libcap).
 *
 * `make install` gives the execguard binary two file capabilities, permitted but not
 * effective: CAP_SYS_ADMIN, to install the seccomp filter without no_new_privs (so setuid
 * programs such as sudo work in a session, when the daemon's policy says no_new_privs = no),
 * and CAP_SETPCAP, to narrow the session's bounding set (capabilities = ...). Each is raised
 * only for that one step, in the command's process, and everything is dropped before the
 * command is exec'd; every other execguard command drops them at once. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* At start: keep CAP_SYS_ADMIN and CAP_SETPCAP in the permitted set if keep (run, login)
 * and we have them, drop every other capability. Returns 0 or -errno. A process run by
 * root keeps what it has: root gets them back at any exec anyway. */
int privs_startup(bool keep);

/* Whether CAP_SYS_ADMIN / CAP_SETPCAP can be raised (permitted). */
bool privs_can_install_without_nnp(void);
bool privs_can_limit_bounding(void);

/* Keep only the capabilities in keep (one bit per capability) in the bounding set.
 * Returns 0 or -errno (-EPERM: no CAP_SETPCAP). */
int privs_limit_bounding(uint64_t keep);

/* Raise CAP_SYS_ADMIN in the effective set, for installing the filter without
 * no_new_privs. Returns 0 or -errno. */
int privs_raise_sys_admin(void);

/* Drop every capability from the permitted, effective, inheritable and ambient sets,
 * unless the real uid is 0. Returns 0 or -errno. */
int privs_drop_all(void);
