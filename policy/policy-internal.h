/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the policy engine share and nobody else sees. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "macro.h"
#include "policy.h"

/* Limits of devsieve.rules(5). */
#define POLICY_FILE_MAX (1024 * 1024)
#define POLICY_LINE_MAX (64 * 1024)
#define POLICY_INCLUDE_DEPTH_MAX 16

static inline bool is_blank(char c) {
        /* '\r' so that files with CRLF line ends read as they look. */
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Appends one zeroed item to a malloc'd array of *n items. Rule arrays are
 * short (a handful of keys), so growing one item at a time is fine. */
static inline void *array_append(void *array, size_t *n, size_t size) {
        char *grown;

        if (*n >= SIZE_MAX / size - 1)
                return NULL;
        grown = realloc(array, (*n + 1) * size);
        if (!grown)
                return NULL;
        memset(grown + *n * size, 0, size);
        (*n)++;
        return grown;
}

/* --- Logical lines (lines.c) ----------------------------------------- */

/* Where one physical line's text starts inside the joined logical line, so
 * that diagnostics point into the file as the user sees it. */
struct policy_segment {
        size_t offset;
        unsigned line, column;
};

struct policy_line {
        char *text; /* physical lines trimmed and joined with single spaces */
        size_t length, allocated;
        struct policy_segment *segments;
        size_t n_segments, allocated_segments;
        unsigned line; /* the first physical line */
};

struct policy_line_reader {
        const char *text;
        size_t size, pos;
        unsigned line;
};

void policy_line_done(struct policy_line *l);
/* Returns 1 and the next logical line, 0 at the end of the text, -E2BIG
 * when the logical line starting at l->line is longer than POLICY_LINE_MAX
 * (it is skipped), or -ENOMEM. */
int policy_line_reader_next(struct policy_line_reader *r, struct policy_line *l);

/* --- Tokens inside one logical line (tokenize.c) ---------------------- */

struct policy_lexer {
        const struct policy_line *line;
        size_t pos;
        size_t error_pos; /* where policy_lexer_value() found a problem */
};

enum {
        LEXER_VALUE_NO_QUOTE = 1,
        LEXER_VALUE_UNTERMINATED,
        LEXER_VALUE_NEWLINE,
        LEXER_VALUE_BAD_ESCAPE,
};

void policy_lexer_init(struct policy_lexer *x, const struct policy_line *l);
void policy_lexer_skip_blanks(struct policy_lexer *x);
bool policy_lexer_at_end(const struct policy_lexer *x);
char policy_lexer_peek(const struct policy_lexer *x);
const char *policy_lexer_at(const struct policy_lexer *x, size_t pos);
/* Consume a word ([A-Za-z_][A-Za-z0-9_]*) or a run of operator characters;
 * return its length, 0 when there is none here. */
size_t policy_lexer_word(struct policy_lexer *x);
size_t policy_lexer_operator(struct policy_lexer *x);
/* At '{': consumes "{NAME}" and returns the length of NAME; -1 (nothing
 * consumed) when the '}' is missing. */
ssize_t policy_lexer_braced(struct policy_lexer *x);
/* Consumes a double-quoted value and returns it unescaped: 0, -ENOMEM, or
 * one of LEXER_VALUE_* with x->error_pos set. */
int policy_lexer_value(struct policy_lexer *x, char **ret);
/* The token at pos for "got ..." messages: "'MODE'" or "end of line". */
void policy_lexer_describe(const struct policy_lexer *x, size_t pos, char *buf, size_t size);
void policy_lexer_location(const struct policy_line *l, size_t pos, unsigned *ret_line, unsigned *ret_column);

/* --- Keys (keys.c) ---------------------------------------------------- */

enum policy_key {
        KEY_SUBSYSTEM,
        KEY_KERNEL,
        KEY_DEVTYPE,
        KEY_DRIVER,
        KEY_DEVPATH,
        KEY_DEVNAME,
        KEY_TYPE,
        KEY_MAJOR,
        KEY_MINOR,
        KEY_ATTR,
        KEY_ENV,
        KEY_SUBSYSTEMS,
        KEY_KERNELS,
        KEY_DRIVERS,
        KEY_ATTRS,
        KEY_NAME,
        KEY_SYMLINK,
        KEY_MODE,
        KEY_OWNER,
        KEY_GROUP,
        KEY_ACCESS,
        KEY_WRITABLE_ATTR,
        _KEY_MAX,
};

enum policy_op {
        OP_MATCH = 1 << 0,   /* == */
        OP_NOMATCH = 1 << 1, /* != */
        OP_ASSIGN = 1 << 2,  /* = */
        OP_ADD = 1 << 3,     /* += */
};

struct policy_key_info {
        const char *name;
        enum policy_key key;
        unsigned ops;    /* the enum policy_op the key accepts */
        bool argument;   /* KEY{NAME} */
        bool ancestor;   /* tested on the device or one of its ancestors */
        bool assignment; /* only in allow rules */
        bool once;       /* at most once per rule */
};

const struct policy_key_info *policy_key_lookup(const char *name, size_t length);
/* 0 for an unknown operator. */
enum policy_op policy_op_from_string(const char *s, size_t length);
/* "'==' or '!='" */
const char *policy_ops_describe(unsigned ops);

/* --- Patterns (match.c) ----------------------------------------------- */

struct policy_alternative {
        const char *text;
        bool glob; /* else compared with strcmp */
};

struct policy_pattern {
        char *buffer; /* the alternatives, NUL-separated */
        struct policy_alternative *items;
        size_t n_items;
};

int policy_pattern_compile(const char *value, struct policy_pattern *ret);
void policy_pattern_done(struct policy_pattern *p);
bool policy_pattern_match(const struct policy_pattern *p, const char *s);

/* --- Value checks (validate.c) ---------------------------------------- */

/* Each returns NULL when s is acceptable, else why not ("must be
 * relative"). */
const char *policy_check_node_path(const char *s);
const char *policy_check_attribute_name(const char *s);
const char *policy_check_env_key(const char *s);
const char *policy_check_expose_path(const char *s);
const char *policy_check_number_pattern(const char *s);
const char *policy_check_type_pattern(const char *s);
const char *policy_parse_mode(const char *s, mode_t *ret);
const char *policy_parse_access(const char *s, unsigned *ret);
/* 1 and the id when s is a decimal number, 0 when s is a name, or
 * -ERANGE. */
int policy_parse_id(const char *s, uint32_t *ret);
/* Splits a space-separated list; empty items are dropped. */
int policy_split_words(const char *s, char ***ret);

/* --- Name resolution (names.c) ---------------------------------------- */

struct policy_name_cache;

/* Looks up a user (group == false) or group name in ROOT/etc/passwd or
 * ROOT/etc/group, or in the host's databases when root is NULL. Returns 1
 * and the id, 0 when there is no such name, or a negative errno when the
 * database could not be read. */
int policy_names_lookup(struct policy_name_cache **cache, const char *root, bool group, const char *name,
                        uint32_t *ret);
void policy_names_cache_free(struct policy_name_cache **cache);

/* --- The compiled policy ---------------------------------------------- */

struct policy_match {
        enum policy_key key;
        bool negate;
        char *argument; /* ATTR{NAME}, ATTRS{NAME}, ENV{NAME} */
        char *text;     /* as written, for traces: KERNEL=="loop*" */
        struct policy_pattern pattern;
};

struct policy_assignment {
        enum policy_key key;
        enum policy_op op;
        char *string;    /* NAME */
        char **list;     /* SYMLINK, WRITABLE_ATTR */
        uint32_t number; /* MODE, OWNER, GROUP, ACCESS */
};

struct policy_rule {
        enum policy_verb verb;
        const char *file; /* owned by the policy */
        unsigned line;
        size_t index;
        char *text;

        struct policy_match *matches; /* tested on the device itself */
        size_t n_matches;
        struct policy_match *ancestor_matches; /* all on one device of the chain */
        size_t n_ancestor_matches;
        struct policy_assignment *assignments; /* in the order written */
        size_t n_assignments;

        struct policy_rule *prev, *next;
};

struct policy_rule *policy_rule_free(struct policy_rule *r);
DEFINE_POINTER_CLEANUP(struct policy_rule, policy_rule_free);

struct policy_index;

struct policy {
        struct policy_rule *rules; /* utlist DL list, in evaluation order */
        size_t n_rules;
        struct policy_index *index; /* made when loading finished */
        char **exposed;
        char **files; /* the names rules and diagnostics refer to */
        char *identity; /* policy_identity(), made when loading finished */
        size_t identity_length;
        unsigned identity_hash;
};

/* Once every rule is in: makes the identity and the index. */
int policy_seal(struct policy *p);

/* --- The rule index (index.c) ----------------------------------------- */

/* The keys rules are filed under, and which of a device's values each
 * looks up. */
enum {
        INDEX_KERNEL,
        INDEX_SUBSYSTEM,
        _INDEX_MAX,
};

const char *policy_index_device_value(size_t kind, const struct policy_device *d);

/* One run of rules of the index, in rule order: the unindexed ones (kind
 * _INDEX_MAX, value NULL) or those filed under one value of one kind. */
struct policy_index_run {
        size_t kind;
        const char *value;
        const struct policy_rule *const *rules;
        size_t n_rules;
};

/* Calls fn for the unindexed run (always, first) and for every bucket;
 * stops at and returns fn's first negative return. */
int policy_index_foreach(const struct policy *p, int (*fn)(const struct policy_index_run *run, void *userdata),
                         void *userdata);

int policy_index_build(const struct policy *p, struct policy_index **ret);
struct policy_index *policy_index_free(struct policy_index *x);
DEFINE_POINTER_CLEANUP(struct policy_index, policy_index_free);

/* What a policy set (set.c) knows of a rule of its runs without reading
 * the rule: its position in its policy, and the id of its text among the
 * rules of the set (rules written alike match alike). */
struct policy_rule_ref {
        uint32_t index;
        uint32_t id;
};

/* Up to three lists of rules, each in rule order and no rule in two: walked
 * together they give rules in the order of the policy. */
struct policy_rule_lists {
        const struct policy_rule *const *items[3];
        const struct policy_rule_ref *refs[3]; /* all NULL, or each list's, parallel to items */
        size_t n[3], pos[3];
        size_t n_lists;
        uint32_t last_id; /* with refs: the id of the rule last returned */
};

/* Every rule of p. */
void policy_rule_lists_all(const struct policy *p, struct policy_rule_lists *ret);
/* The rules d can match: those filed under d's KERNEL and SUBSYSTEM
 * values and those the index cannot exclude. */
void policy_rule_lists_for(const struct policy *p, const struct policy_device *d, struct policy_rule_lists *ret);
/* Positions all lists at their end (start), then steps back (forth) one
 * rule at a time; NULL when there is none left. */
void policy_rule_lists_to_end(struct policy_rule_lists *l);
void policy_rule_lists_to_start(struct policy_rule_lists *l);
const struct policy_rule *policy_rule_lists_prev(struct policy_rule_lists *l);
const struct policy_rule *policy_rule_lists_next(struct policy_rule_lists *l);

/* Only the unindexed rules of p. */
void policy_rule_lists_unindexed(const struct policy *p, struct policy_rule_lists *ret);

/* policy_evaluate() without a trace, over every rule instead of the
 * indexed ones: the reference the index is tested against. */
int policy_evaluate_linear(const struct policy *p, const struct policy_device *d, struct policy_result *ret);
/* Without a trace, over the rules of l alone (up to three runs of one
 * policy's index): what policy sets evaluate. With memo (l has refs), a
 * byte per rule id remembers whether the rule matched d (0: not tested, 1:
 * no, 2: yes), so that a rule many policies share is tested once. */
int policy_evaluate_lists(struct policy_rule_lists *l, const struct policy_device *d, struct policy_result *ret,
                          uint8_t *memo);

/* Writes the line of p's identity for one rule (policy_seal()). */
void policy_rule_write_identity(FILE *f, const struct policy_rule *rule);

int policy_new(struct policy **ret);
/* Returns a copy of name that lives as long as p. */
int policy_intern_file(struct policy *p, const char *name, const char **ret);
void policy_add_rule(struct policy *p, struct policy_rule *r);
int policy_add_exposed(struct policy *p, const char *path);

/* --- Loading (load.c, parse.c, diagnostics.c) ------------------------- */

struct policy_include_frame {
        const char *name;  /* as the user named it; owned by the policy */
        char *directory;   /* what relative includes resolve against */
        bool builtin;
        bool has_inode;    /* false for strings and built-ins */
        dev_t dev;
        ino_t ino;
};

struct policy_parse_context {
        const struct policy_load_options *options;
        struct policy *policy;
        struct policy_diagnostics *diags;
        size_t n_errors;
        struct policy_include_frame frames[POLICY_INCLUDE_DEPTH_MAX + 1];
        size_t n_frames;
        struct policy_name_cache *users, *groups;
};

/* Records a diagnostic. Returns -EINVAL for an error (so that parsers can
 * "return policy_diag(...)"), 0 for a warning, -ENOMEM. */
int policy_diag(struct policy_parse_context *ctx, bool is_error, const char *file, unsigned line, unsigned column,
                const char *format, ...) _printf_(6, 7);
int policy_diagv(struct policy_parse_context *ctx, bool is_error, const char *file, unsigned line, unsigned column,
                 const char *format, va_list ap) _printf_(6, 0);

/* Parses the text of one file (named file, already interned) into
 * ctx->policy. Problems become diagnostics; returns 0 or -ENOMEM. */
int policy_parse_text(struct policy_parse_context *ctx, const char *file, const char *text, size_t size);

/* include "WRITTEN" at file:line:column of the innermost frame. Returns 0,
 * -EINVAL (reported) or -ENOMEM. */
int policy_include(struct policy_parse_context *ctx, const char *file, unsigned line, unsigned column,
                   const char *written);
