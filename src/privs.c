#include "privs.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}
#define _cleanup_cap_ _cleanup_(cap_freep)

static bool permitted(cap_value_t cap) {
        _cleanup_cap_ cap_t caps = cap_get_proc();
        cap_flag_value_t v = CAP_CLEAR;
        return caps && cap_get_flag(caps, cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET;
}

bool privs_can_install_without_nnp(void) {
        return permitted(CAP_SYS_ADMIN);
}

bool privs_can_limit_bounding(void) {
        return permitted(CAP_SETPCAP);
}

int privs_startup(bool keep) {
        if (getuid() == 0)
                return 0;
        static const cap_value_t kept[] = { CAP_SYS_ADMIN, CAP_SETPCAP };
        _cleanup_cap_ cap_t caps = cap_init(); /* all clear */
        _cleanup_cap_ cap_t now = cap_get_proc();
        if (!caps || !now)
                return negative_errno();
        if (keep)
                for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                        cap_flag_value_t v = CAP_CLEAR;
                        if (cap_get_flag(now, kept[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET &&
                            cap_set_flag(caps, CAP_PERMITTED, 1, &kept[i], CAP_SET) < 0)
                                return negative_errno();
                }
        return cap_set_proc(caps) < 0 ? negative_errno() : 0;
}

static int raise_effective(cap_value_t cap) {
        _cleanup_cap_ cap_t caps = cap_get_proc();
        if (!caps)
                return negative_errno();
        if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &cap, CAP_SET) < 0 || cap_set_proc(caps) < 0)
                return errno == EPERM ? -EPERM : negative_errno();
        return 0;
}

int privs_limit_bounding(uint64_t keep) {
        int r = raise_effective(CAP_SETPCAP);
        if (r < 0)
                return r;
        for (int c = 0; c < 64; c++) {
                if (keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
                        if (errno == EINVAL)
                                break; /* past the last capability this kernel knows */
                        return negative_errno();
                }
        }
        return 0;
}

int privs_raise_sys_admin(void) {
        return raise_effective(CAP_SYS_ADMIN);
}

int privs_drop_all(void) {
        if (getuid() == 0)
                return 0;
        _cleanup_cap_ cap_t none = cap_init();
        if (!none)
                return negative_errno();
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();
        return cap_set_proc(none) < 0 ? negative_errno() : 0;
}
