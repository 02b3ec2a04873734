/*
 * The draft page's view model (templates/draft.html) built from a loaded draft (drafts_load):
 * every secret masked with stable placeholders (draft_secrets.h), the preview rendered from the
 * masked text, where it goes as a title and a link, each flag with its explanation, times as
 * people read them, diffs by line and by word, names beside ids, and what the viewer may do in
 * the draft's present state. All strings are escaped by the template; only `preview_html` is
 * raw, produced by render_markdown_safe().
 */
#ifndef AGENTGATE_DRAFT_VIEW_H
#define AGENTGATE_DRAFT_VIEW_H

#include <jansson.h>
#include <time.h>

#include "review/draft_access.h"
#include "review/draft_secrets.h"

struct draft_view_input {
    const struct draft_access *access;
    const json_t *killswitch; /* JSON null, or the switch while it is on */
    const char *from;         /* the local page the viewer came from, or NULL */
    time_t now;
};

/* The masked revisions of `draft` (a new array of {"revision", "title", "body", "author_id",
 * "author_name", "created_at"}, oldest first), numbering its secrets in `secrets` in the order
 * that keeps placeholders stable (see draft_secrets.h). NULL when memory runs out. */
json_t *draft_secrets_collect(const json_t *draft, struct draft_secrets *secrets);

/* "alice (1001)": a person's name beside their id (the id alone when the name is missing or the
 * same). Writes into `out`. */
void draft_person_label(const char *name, const char *id, char *out, size_t size);

/* The template data for the draft page: {"title", "draft": {...}, "can_*", ...}. `draft` is
 * borrowed and changed (view fields are added). NULL when memory runs out. */
json_t *draft_view_build(json_t *draft, const struct draft_view_input *input);

/* A one-line plain-text excerpt of a list entry's Markdown body (the first characters of it),
 * secrets masked with the draft's stored flags; and the title masked likewise. Adds "excerpt"
 * and replaces "title" of `item` (an entry of drafts_list_for_user). */
void draft_view_list_item(json_t *item, time_t now);

#endif
