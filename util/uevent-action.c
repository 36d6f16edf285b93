/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "uevent-action.h"

static const char *const action_names[_UEVENT_ACTION_MAX] = {
        [UEVENT_ADD] = "add",       [UEVENT_REMOVE] = "remove",   [UEVENT_CHANGE] = "change",
        [UEVENT_MOVE] = "move",     [UEVENT_ONLINE] = "online",   [UEVENT_OFFLINE] = "offline",
        [UEVENT_BIND] = "bind",     [UEVENT_UNBIND] = "unbind",
};

const char *uevent_action_to_string(enum uevent_action a) {
        return a < _UEVENT_ACTION_MAX ? action_names[a] : NULL;
}

int uevent_action_from_string(const char *s) {
        for (int a = 0; a < _UEVENT_ACTION_MAX; a++)
                if (streq(s, action_names[a]))
                        return a;
        return -EINVAL;
}

bool uevent_key_is_per_event(const char *key_value) {
        static const char *const keys[] = { "ACTION=", "SEQNUM=", "DEVPATH_OLD=", "SYNTH_" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (startswith(key_value, keys[i]))
                        return true;
        return false;
}
