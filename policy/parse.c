/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"
#include "strv.h"

/* The statements of devsieve.rules(5): allow/deny rules with their keys,
 * include and expose. A syntax error ends the logical line it is on; errors
 * in values (a bad MODE, an unknown user) do not, so that one run reports
 * as much as it can. */

struct statement {
        struct policy_parse_context *ctx;
        const char *file;
        const struct policy_line *line;
        struct policy_lexer lex;
};

static int diag_at(struct statement *s, bool is_error, size_t pos, const char *format, ...) _printf_(4, 5);
static int diag_at(struct statement *s, bool is_error, size_t pos, const char *format, ...) {
        unsigned line, column;
        va_list ap;
        int r;

        policy_lexer_location(s->line, pos, &line, &column);
        va_start(ap, format);
        r = policy_diagv(s->ctx, is_error, s->file, line, column, format, ap);
        va_end(ap);
        return r;
}

#define error_at(s, pos, ...) diag_at((s), true, (pos), __VA_ARGS__)

/* What a key is called in messages: "KERNEL", "ATTR{size}". */
struct key_use {
        const struct policy_key_info *info;
        enum policy_op op;
        char *argument;
        char label[64];
        size_t key_pos, value_pos;
        char *value;
        char *text; /* as written */
};

static void key_use_done(struct key_use *k) {
        free(k->argument);
        free(k->value);
        free(k->text);
}

/* what: "the value of KERNEL", "the include path". */
static int value_error(struct statement *s, int r, const char *what) {
        const char *text = policy_lexer_at(&s->lex, s->lex.error_pos);
        char got[64];

        switch (r) {
        case LEXER_VALUE_NO_QUOTE:
                policy_lexer_describe(&s->lex, s->lex.error_pos, got, sizeof(got));
                return error_at(s, s->lex.error_pos, "expected '\"' to start %s, got %s", what, got);
        case LEXER_VALUE_UNTERMINATED:
                return error_at(s, s->lex.error_pos, "missing closing '\"' in %s", what);
        case LEXER_VALUE_NEWLINE:
                return error_at(s, s->lex.error_pos, "newline inside %s: close the '\"' before continuing the line",
                                what);
        case LEXER_VALUE_BAD_ESCAPE:
                if (text[1] > ' ' && text[1] < 0x7f)
                        return error_at(s, s->lex.error_pos,
                                        "invalid escape '\\%c' in %s: only '\\\"' and '\\\\' are allowed", text[1],
                                        what);
                return error_at(s, s->lex.error_pos, "invalid '\\' in %s: only '\\\"' and '\\\\' are allowed", what);
        default:
                return r;
        }
}

/* --- Match keys --------------------------------------------------------- */

static int add_match(struct statement *s, struct policy_rule *rule, struct key_use *k) {
        struct policy_match **array, *grown;
        size_t *n;
        const char *why = NULL;
        struct policy_match m;
        int r;

        if (k->info->key == KEY_TYPE)
                why = policy_check_type_pattern(k->value);
        else if (k->info->key == KEY_MAJOR || k->info->key == KEY_MINOR)
                why = policy_check_number_pattern(k->value);
        if (why)
                return error_at(s, k->value_pos, "invalid %s value \"%s\": %s", k->label, k->value, why);

        m = (struct policy_match) {
                .key = k->info->key,
                .negate = k->op == OP_NOMATCH,
        };
        r = policy_pattern_compile(k->value, &m.pattern);
        if (r < 0)
                return r;
        m.argument = TAKE_PTR(k->argument);
        m.text = TAKE_PTR(k->text);

        if (k->info->ancestor) {
                array = &rule->ancestor_matches;
                n = &rule->n_ancestor_matches;
        } else {
                array = &rule->matches;
                n = &rule->n_matches;
        }
        grown = array_append(*array, n, sizeof(**array));
        if (!grown) {
                free(m.argument);
                free(m.text);
                policy_pattern_done(&m.pattern);
                return -ENOMEM;
        }
        *array = grown;
        grown[*n - 1] = m;
        return 0;
}

/* --- Assignment keys ---------------------------------------------------- */

static int parse_names(struct statement *s, struct key_use *k, bool attributes, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = policy_split_words(k->value, &l);
        if (r < 0)
                return r;
        if (!l && k->op == OP_ADD)
                return error_at(s, k->value_pos, "%s+= needs at least one name", k->label);
        STRV_FOREACH(i, l) {
                const char *why = attributes ? policy_check_attribute_name(*i) : policy_check_node_path(*i);
                if (why)
                        return error_at(s, k->value_pos, "invalid %s name \"%s\": %s", k->label, *i, why);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int resolve_id(struct statement *s, struct key_use *k, uint32_t *ret) {
        struct policy_parse_context *ctx = s->ctx;
        bool group = k->info->key == KEY_GROUP;
        const char *what = group ? "group" : "user";
        const char *root = ctx->options->root;
        _cleanup_free_ char *where = NULL;
        int r;

        r = policy_parse_id(k->value, ret);
        if (r == -ERANGE)
                return error_at(s, k->value_pos, "invalid %s \"%s\": id out of range", k->label, k->value);
        if (r > 0)
                return 0;
        if (k->value[0] == '\0')
                return error_at(s, k->value_pos, "invalid %s \"\": expected a %s name or number", k->label, what);

        r = policy_names_lookup(group ? &ctx->groups : &ctx->users, root, group, k->value, ret);
        if (r > 0)
                return 0;
        if (r == -ENOMEM)
                return r;

        if (root && asprintf(&where, " in %s/etc/%s", root, group ? "group" : "passwd") < 0)
                return -ENOMEM;
        *ret = 0;
        if (r == 0)
                r = diag_at(s, ctx->options->unknown_names_are_errors, k->value_pos, "unknown %s '%s'%s%s", what,
                            k->value, strempty(where), ctx->options->unknown_names_are_errors ? "" : ", using 0");
        else {
                errno = -r;
                r = diag_at(s, ctx->options->unknown_names_are_errors, k->value_pos, "cannot look up %s '%s'%s: %m%s",
                            what, k->value, strempty(where), ctx->options->unknown_names_are_errors ? "" : ", using 0");
        }
        return r;
}

static int add_assignment(struct statement *s, struct policy_rule *rule, struct key_use *k) {
        struct policy_assignment a = {
                .key = k->info->key,
                .op = k->op,
        };
        struct policy_assignment *grown;
        const char *why = NULL;
        mode_t mode = 0;
        int r = 0;

        switch (k->info->key) {
        case KEY_NAME:
                why = policy_check_node_path(k->value);
                if (why)
                        return error_at(s, k->value_pos, "invalid NAME \"%s\": %s", k->value, why);
                a.string = TAKE_PTR(k->value);
                break;
        case KEY_SYMLINK:
                r = parse_names(s, k, false, &a.list);
                break;
        case KEY_WRITABLE_ATTR:
                r = parse_names(s, k, true, &a.list);
                break;
        case KEY_MODE:
                why = policy_parse_mode(k->value, &mode);
                a.number = mode;
                break;
        case KEY_ACCESS:
                why = policy_parse_access(k->value, &a.number);
                break;
        case KEY_OWNER:
        case KEY_GROUP:
                r = resolve_id(s, k, &a.number);
                break;
        default:
                return -EINVAL;
        }
        if (why)
                return error_at(s, k->value_pos, "invalid %s \"%s\": %s", k->label, k->value, why);
        if (r < 0) {
                strv_free(a.list);
                return r;
        }

        grown = array_append(rule->assignments, &rule->n_assignments, sizeof(*grown));
        if (!grown) {
                free(a.string);
                strv_free(a.list);
                return -ENOMEM;
        }
        rule->assignments = grown;
        grown[rule->n_assignments - 1] = a;
        return 0;
}

/* --- One KEY OP "VALUE" ------------------------------------------------- */

/* Returns 0, -EINVAL after a syntax error (the rest of the line cannot be
 * trusted), or -ENOMEM. Errors in the value itself are recorded and the
 * parse goes on. */
static int parse_key(struct statement *s, struct policy_rule *rule, unsigned *seen) {
        struct policy_lexer *x = &s->lex;
        _cleanup_(key_use_done) struct key_use k = {
                .key_pos = x->pos,
        };
        size_t n, op_pos;
        char got[64];
        int r;

        n = policy_lexer_word(x);
        if (n == 0) {
                policy_lexer_describe(x, k.key_pos, got, sizeof(got));
                return error_at(s, k.key_pos, "expected a key, got %s", got);
        }
        k.info = policy_key_lookup(policy_lexer_at(x, k.key_pos), n);
        if (!k.info) {
                if (n > 32)
                        return error_at(s, k.key_pos, "unknown key '%.32s...'", policy_lexer_at(x, k.key_pos));
                return error_at(s, k.key_pos, "unknown key '%.*s'", (int) n, policy_lexer_at(x, k.key_pos));
        }

        if (k.info->argument) {
                size_t brace = x->pos;
                ssize_t m;
                const char *why;

                if (policy_lexer_peek(x) != '{') {
                        policy_lexer_describe(x, x->pos, got, sizeof(got));
                        return error_at(s, x->pos, "expected '{' after %s, got %s", k.info->name, got);
                }
                m = policy_lexer_braced(x);
                if (m < 0)
                        return error_at(s, brace, "missing '}' after '%s{'", k.info->name);
                k.argument = strndup(policy_lexer_at(x, brace + 1), (size_t) m);
                if (!k.argument)
                        return -ENOMEM;
                if (strlen(k.argument) > 40)
                        snprintf(k.label, sizeof(k.label), "%s{%.40s...}", k.info->name, k.argument);
                else
                        snprintf(k.label, sizeof(k.label), "%s{%s}", k.info->name, k.argument);
                why = k.info->key == KEY_ENV ? policy_check_env_key(k.argument)
                                             : policy_check_attribute_name(k.argument);
                if (why)
                        (void) error_at(s, brace + 1, "invalid %s name \"%s\": %s",
                                        k.info->key == KEY_ENV ? "property" : "attribute", k.argument, why);
        } else {
                if (policy_lexer_peek(x) == '{')
                        return error_at(s, x->pos, "%s takes no {NAME} (only ATTR, ATTRS and ENV do)", k.info->name);
                snprintf(k.label, sizeof(k.label), "%s", k.info->name);
        }

        if (k.info->assignment && rule->verb == POLICY_DENY)
                (void) error_at(s, k.key_pos, "deny rules cannot assign: %s is only allowed in allow rules", k.label);
        else if (k.info->once) {
                if (*seen & (1u << k.info->key))
                        (void) error_at(s, k.key_pos, "%s given twice in one rule", k.label);
                *seen |= 1u << k.info->key;
        }

        policy_lexer_skip_blanks(x);
        op_pos = x->pos;
        n = policy_lexer_operator(x);
        k.op = policy_op_from_string(policy_lexer_at(x, op_pos), n);
        if (!(k.op & k.info->ops)) {
                policy_lexer_describe(x, op_pos, got, sizeof(got));
                return error_at(s, op_pos, "expected %s after %s, got %s", policy_ops_describe(k.info->ops), k.label,
                                got);
        }

        policy_lexer_skip_blanks(x);
        k.value_pos = x->pos;
        r = policy_lexer_value(x, &k.value);
        if (r != 0) {
                char what[96];

                snprintf(what, sizeof(what), "the value of %s", k.label);
                return value_error(s, r, what);
        }

        k.text = strndup(policy_lexer_at(x, k.key_pos), x->pos - k.key_pos);
        if (!k.text)
                return -ENOMEM;

        if (k.info->assignment && rule->verb == POLICY_DENY)
                return 0;
        r = k.info->assignment ? add_assignment(s, rule, &k) : add_match(s, rule, &k);
        return r == -ENOMEM ? r : 0;
}

/* --- Statements --------------------------------------------------------- */

static int parse_rule(struct statement *s, enum policy_verb verb, const char *word) {
        struct policy_lexer *x = &s->lex;
        _cleanup_(policy_rule_freep) struct policy_rule *rule = NULL;
        size_t errors = s->ctx->n_errors;
        unsigned seen = 0;
        char got[64];
        int r;

        rule = calloc(1, sizeof(*rule));
        if (!rule)
                return -ENOMEM;
        rule->verb = verb;
        rule->file = s->file;
        rule->line = s->line->line;

        policy_lexer_skip_blanks(x);
        if (policy_lexer_at_end(x))
                return error_at(s, x->pos, "expected a key after '%s'", word);

        for (;;) {
                size_t comma;

                r = parse_key(s, rule, &seen);
                if (r < 0)
                        return r;

                policy_lexer_skip_blanks(x);
                if (policy_lexer_at_end(x))
                        break;
                if (policy_lexer_peek(x) != ',') {
                        policy_lexer_describe(x, x->pos, got, sizeof(got));
                        return error_at(s, x->pos, "expected ',' or end of line, got %s", got);
                }
                comma = x->pos++;
                policy_lexer_skip_blanks(x);
                if (policy_lexer_at_end(x))
                        return error_at(s, comma, "trailing ',': expected another key after it");
        }

        if (s->ctx->n_errors > errors)
                return -EINVAL;
        rule->text = strdup(s->line->text);
        if (!rule->text)
                return -ENOMEM;
        policy_add_rule(s->ctx->policy, TAKE_PTR(rule));
        return 0;
}

/* include "FILE" and expose "PATH": one value, nothing after it. */
static int parse_path_argument(struct statement *s, const char *word, char **ret, size_t *ret_pos) {
        struct policy_lexer *x = &s->lex;
        _cleanup_free_ char *value = NULL;
        char got[64];
        size_t pos;
        int r;

        policy_lexer_skip_blanks(x);
        pos = x->pos;
        r = policy_lexer_value(x, &value);
        if (r != 0) {
                char what[32];

                snprintf(what, sizeof(what), "the %s path", word);
                return value_error(s, r, what);
        }
        policy_lexer_skip_blanks(x);
        if (!policy_lexer_at_end(x)) {
                policy_lexer_describe(x, x->pos, got, sizeof(got));
                return error_at(s, x->pos, "expected end of line after the %s path, got %s", word, got);
        }
        *ret = TAKE_PTR(value);
        *ret_pos = pos;
        return 0;
}

static int parse_include(struct statement *s) {
        _cleanup_free_ char *path = NULL;
        unsigned line, column;
        size_t pos;
        int r;

        r = parse_path_argument(s, "include", &path, &pos);
        if (r < 0)
                return r;
        if (path[0] == '\0')
                return error_at(s, pos, "empty include path");
        policy_lexer_location(s->line, pos, &line, &column);
        return policy_include(s->ctx, s->file, line, column, path);
}

static int parse_expose(struct statement *s) {
        _cleanup_free_ char *path = NULL;
        const char *why;
        size_t pos;
        int r;

        r = parse_path_argument(s, "expose", &path, &pos);
        if (r < 0)
                return r;
        why = policy_check_expose_path(path);
        if (why)
                return error_at(s, pos, "invalid expose path \"%s\": %s", path, why);
        return policy_add_exposed(s->ctx->policy, path);
}

static int parse_statement(struct policy_parse_context *ctx, const char *file, const struct policy_line *line) {
        struct statement s = {
                .ctx = ctx,
                .file = file,
                .line = line,
        };
        char got[64];
        size_t n;

        policy_lexer_init(&s.lex, line);
        n = policy_lexer_word(&s.lex);

#define IS_WORD(w) (n == strlen(w) && memcmp(line->text, w, n) == 0)
        if (IS_WORD("allow"))
                return parse_rule(&s, POLICY_ALLOW, "allow");
        if (IS_WORD("deny"))
                return parse_rule(&s, POLICY_DENY, "deny");
        if (IS_WORD("include"))
                return parse_include(&s);
        if (IS_WORD("expose"))
                return parse_expose(&s);
#undef IS_WORD

        policy_lexer_describe(&s.lex, 0, got, sizeof(got));
        return error_at(&s, 0, "expected 'allow', 'deny', 'include' or 'expose', got %s", got);
}

static void locate(const char *text, const char *at, unsigned *ret_line, unsigned *ret_column) {
        unsigned line = 1;
        const char *start = text;

        for (const char *p = text; p < at; p++)
                if (*p == '\n') {
                        line++;
                        start = p + 1;
                }
        *ret_line = line;
        *ret_column = (unsigned) (at - start) + 1;
}

int policy_parse_text(struct policy_parse_context *ctx, const char *file, const char *text, size_t size) {
        struct policy_line_reader reader = {
                .text = text,
                .size = size,
        };
        _cleanup_(policy_line_done) struct policy_line line = {};
        const char *nul;
        int r;

        if (size > POLICY_FILE_MAX) {
                r = policy_diag(ctx, true, file, 0, 0, "file is larger than 1 MiB");
                return r == -ENOMEM ? r : 0;
        }
        nul = memchr(text, '\0', size);
        if (nul) {
                unsigned l, c;

                locate(text, nul, &l, &c);
                r = policy_diag(ctx, true, file, l, c, "NUL byte: policy files must be text");
                return r == -ENOMEM ? r : 0;
        }

        for (;;) {
                r = policy_line_reader_next(&reader, &line);
                if (r == 0)
                        return 0;
                if (r == -E2BIG)
                        r = policy_diag(ctx, true, file, line.line, 1, "logical line longer than 64 KiB");
                else if (r > 0)
                        r = parse_statement(ctx, file, &line);
                if (r == -ENOMEM)
                        return r;
        }
}
