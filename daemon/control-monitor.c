/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `devsieve monitor`: every host event, and for each container whether it
 * reached the container (and as what) or was withheld (and why); plus the
 * changes that come from no host event (reload, add, remove, attach).
 *
 * The model delivers a host event's deltas container by container, then
 * tells us the event is done (model_observe_events): the containers it
 * reached are collected in control->pending until then. Nothing of this
 * runs while nobody monitors. */
#include <utlist.h>

#include "control-internal.h"
#include "control-json.h"
#include "strv.h"

static const char *delta_name(enum delta_kind k) {
        static const char *const names[] = { "visible", "changed", "hidden" };
        return k <= DELTA_HIDDEN ? names[k] : "?";
}

/* What one delta meant for the container. */
static json_t *delta_json(const struct delta *delta) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        const struct visible_device *v = delta->new ?: delta->old;

        if (!o)
                return NULL;
        if (policy_json_set(o, "delta", json_string(delta_name(delta->kind))) < 0 ||
            policy_json_set(o, "devpath", policy_json_string(delta->device->devpath)) < 0 ||
            policy_json_set(o, "node", policy_json_string(v->node)) < 0 ||
            policy_json_set(o, "rule", policy_json_string(v->decided_by)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static bool wants(const struct control_client *cl, const char *container) {
        return cl->monitor && !cl->broken && (!cl->monitor_name || streq(cl->monitor_name, container));
}

static void broadcast(struct control *c, const char *container, json_t *line) {
        struct control_client *cl, *tmp;

        DL_FOREACH_SAFE(c->clients, cl, tmp)
                if (wants(cl, container))
                        control_client_send(c, cl, line);
}

void control_monitor_deltas(struct control *c, struct container *container, const struct delta *deltas,
                            size_t n_deltas) {
        _cleanup_(json_decrefp) json_t *changes = NULL;

        if (!c || c->n_monitors == 0)
                return;
        for (size_t i = 0; i < n_deltas; i++) {
                json_t *entry = delta_json(&deltas[i]);

                if (!entry)
                        return;
                if (deltas[i].event) {
                        /* Reached by a host event: reported with the event. */
                        if (!c->pending)
                                c->pending = json_array();
                        if (policy_json_set(entry, "container", json_string(container->name)) < 0 ||
                            policy_json_set(entry, "outcome", json_string("relayed")) < 0 ||
                            json_array_append_new(c->pending, entry) < 0)
                                return;
                        continue;
                }
                if (!changes)
                        changes = json_array();
                if (json_array_append_new(changes, entry) < 0)
                        return;
        }
        if (changes) {
                _cleanup_(json_decrefp) json_t *line = json_object();

                if (!line || policy_json_set(line, "type", json_string("change")) < 0 ||
                    policy_json_set(line, "container", json_string(container->name)) < 0 ||
                    policy_json_set(line, "deltas", TAKE_PTR(changes)) < 0)
                        return;
                broadcast(c, container->name, line);
        }
}

/* Why a container did not hear of ev. */
static json_t *withheld(struct control *c, struct container *container, const struct uevent *ev) {
        _cleanup_(policy_result_done) struct policy_result result = {};
        _cleanup_(json_decrefp) json_t *o = json_object();
        _cleanup_free_ char *reason = NULL;
        struct device *dev = model_find_device(c->d->model, ev->devpath);
        const struct override *override = dev ? container_find_override(container, dev) : NULL;

        if (!o)
                return NULL;
        if (!dev)
                reason = strdup("the device is not in the host model");
        else if (override && !override->allow)
                reason = strdup("hidden by a runtime override (devsieve remove)");
        else if (policy_evaluate(container->policy, &dev->pd, &result, NULL) < 0)
                return NULL;
        else if (result.decided_by) {
                if (asprintf(&reason, "%s at %s:%u: %s", result.allowed ? "allowed but not visible" : "denied",
                             policy_rule_file(result.decided_by), policy_rule_line(result.decided_by),
                             policy_rule_text(result.decided_by)) < 0)
                        reason = NULL;
        } else
                reason = strdup("no rule matched: hidden by default");
        if (!reason)
                return NULL;
        if (policy_json_set(o, "container", json_string(container->name)) < 0 ||
            policy_json_set(o, "outcome", json_string("withheld")) < 0 ||
            policy_json_set(o, "reason", policy_json_string(reason)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static bool pending_has(json_t *pending, const char *name) {
        size_t i;
        json_t *e;

        json_array_foreach(pending, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "container")), name))
                        return true;
        return false;
}

static json_t *event_line(const struct uevent *ev, json_t *containers) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        const char *devname = strv_env_get(ev->properties, "DEVNAME");

        if (!o || policy_json_set(o, "type", json_string("event")) < 0 ||
            policy_json_set(o, "action", json_string(uevent_action_to_string(ev->action))) < 0 ||
            policy_json_set(o, "devpath", policy_json_string(ev->devpath)) < 0 ||
            policy_json_set(o, "subsystem", policy_json_string(ev->subsystem)) < 0 ||
            policy_json_set(o, "devname", policy_json_string(devname)) < 0 ||
            policy_json_set(o, "seqnum", ev->seqnum ? json_integer((json_int_t) ev->seqnum) : json_null()) < 0 ||
            policy_json_set(o, "containers", json_incref(containers)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_t *only(json_t *containers, const char *name) {
        _cleanup_(json_decrefp) json_t *a = json_array();
        size_t i;
        json_t *e;

        if (!a)
                return NULL;
        json_array_foreach(containers, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "container")), name) &&
                    json_array_append(a, e) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

void control_monitor_event(struct control *c, const struct uevent *ev) {
        _cleanup_(json_decrefp) json_t *pending = NULL, *all = NULL, *line = NULL;
        struct control_client *cl, *tmp;
        struct container *container, *ctmp;

        if (!c)
                return;
        pending = TAKE_PTR(c->pending);
        if (c->n_monitors == 0)
                return;
        all = pending ? json_incref(pending) : json_array();
        if (!all)
                return;
        HASH_ITER(hh, c->d->model->containers, container, ctmp)
                if (!pending_has(all, container->name) && json_array_append_new(all, withheld(c, container, ev)) < 0)
                        return;
        line = event_line(ev, all);
        if (!line)
                return;

        DL_FOREACH_SAFE(c->clients, cl, tmp) {
                _cleanup_(json_decrefp) json_t *filtered = NULL, *own = NULL;

                if (!cl->monitor || cl->broken)
                        continue;
                if (!cl->monitor_name) {
                        control_client_send(c, cl, line);
                        continue;
                }
                filtered = only(all, cl->monitor_name);
                own = filtered ? event_line(ev, filtered) : NULL;
                if (own)
                        control_client_send(c, cl, own);
        }
}
