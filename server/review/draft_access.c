/* The draft access rules; see draft_access.h. */
#include "review/draft_access.h"
#include "web/json_spec.h"

#include "config.h"

#include <string.h>

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

struct draft_access draft_access_for(const struct draft_actor *actor,
                                     const struct draft_parties *draft)
{
    struct draft_access access = {false, false, false, false, false, false};
    bool is_agent, is_invoker, is_delegate;

    if (!actor || !actor->user_id || !same(actor->forum, draft->forum))
        return access;
    is_agent = same(actor->user_id, draft->agent_id);
    is_invoker = !is_agent && same(actor->user_id, draft->invoker_id);
    is_delegate = !is_agent && same(actor->user_id, draft->delegate_id);

    access.decide = (is_invoker || is_delegate) && draft->pending;
    access.delegate = is_invoker && draft->pending;
    access.read = is_invoker || is_delegate || actor->is_moderator;
    access.as_moderator = access.read && !is_invoker && !is_delegate;
    access.retry_delivery = actor->is_moderator;
    access.coapprove =
        actor->is_moderator && draft->awaiting_coapproval && !is_agent &&
        !same(actor->user_id, draft->agent_id) && !same(actor->user_id, draft->invoker_id) &&
        !same(actor->user_id, draft->delegate_id) && !same(actor->user_id, draft->approver_id);
    return access;
}

struct draft_parties draft_parties_from_json(const json_t *draft)
{
    const char *state = json_string_at(draft, "state");
    struct draft_parties parties = {
        .forum = json_string_at(draft, "forum"),
        .agent_id = json_string_at(json_object_get(draft, "agent"), "id"),
        .invoker_id = json_string_at(json_object_get(draft, "invoker"), "id"),
        .delegate_id = json_string_at(json_object_get(draft, "delegate"), "id"),
        .approver_id = json_string_at(draft, "decided_by_id"),
        .pending = state && strcmp(state, "pending") == 0,
        .awaiting_coapproval = state && strcmp(state, "approved") == 0 &&
                               json_is_true(json_object_get(draft, "coapproval_pending")),
    };
    return parties;
}

bool draft_needs_coapproval(const struct forum_config *forum, const json_t *flags)
{
    const json_t *flag;
    size_t index;

    if (!forum || forum->second_approver_for == SECOND_APPROVER_NONE)
        return false;
    json_array_foreach((json_t *)flags, index, flag)
    {
        const char *severity = json_string_at(flag, "severity");
        if (forum->second_approver_for == SECOND_APPROVER_ANY_FLAG)
            return true;
        if (severity && strcmp(severity, "critical") == 0)
            return true;
    }
    return false;
}

bool draft_id_valid(const char *text)
{
    static const int dashes[] = {8, 13, 18, 23};
    size_t d = 0;

    if (!text || strlen(text) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = text[i];
        if (d < 4 && (int)i == dashes[d]) {
            if (c != '-')
                return false;
            d++;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
