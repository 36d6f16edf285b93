/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "policy-internal.h"

/* The tokens of one logical line: words, operators, {NAME} and quoted
 * values. The lexer only moves forward; parse.c decides what it expects. */

static bool is_word_start(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_word_char(char c) {
        return is_word_start(c) || (c >= '0' && c <= '9');
}

static bool is_operator_char(char c) {
        return c && strchr("=!+-:<>~", c);
}

void policy_lexer_init(struct policy_lexer *x, const struct policy_line *l) {
        *x = (struct policy_lexer) {
                .line = l,
        };
}

void policy_lexer_skip_blanks(struct policy_lexer *x) {
        while (x->pos < x->line->length && is_blank(x->line->text[x->pos]))
                x->pos++;
}

bool policy_lexer_at_end(const struct policy_lexer *x) {
        return x->pos >= x->line->length;
}

char policy_lexer_peek(const struct policy_lexer *x) {
        return policy_lexer_at_end(x) ? '\0' : x->line->text[x->pos];
}

const char *policy_lexer_at(const struct policy_lexer *x, size_t pos) {
        return x->line->text + pos;
}

size_t policy_lexer_word(struct policy_lexer *x) {
        size_t start = x->pos;

        if (!is_word_start(policy_lexer_peek(x)))
                return 0;
        while (is_word_char(policy_lexer_peek(x)))
                x->pos++;
        return x->pos - start;
}

size_t policy_lexer_operator(struct policy_lexer *x) {
        size_t start = x->pos;

        while (is_operator_char(policy_lexer_peek(x)))
                x->pos++;
        return x->pos - start;
}

ssize_t policy_lexer_braced(struct policy_lexer *x) {
        size_t start = x->pos + 1;

        for (size_t i = start; i < x->line->length; i++) {
                char c = x->line->text[i];

                if (c == '}') {
                        x->pos = i + 1;
                        return (ssize_t) (i - start);
                }
                /* Not part of any attribute or property name: the '}' was
                 * forgotten, and what follows is the operator or value. */
                if (is_blank(c) || c == '"' || c == ',' || c == '=')
                        break;
        }
        return -1;
}

/* Where the physical line holding pos ends inside the logical line. */
static size_t segment_end(const struct policy_line *l, size_t pos) {
        for (size_t i = 0; i + 1 < l->n_segments; i++)
                if (l->segments[i + 1].offset > pos)
                        return l->segments[i + 1].offset - 1; /* the joining space */
        return l->length;
}

int policy_lexer_value(struct policy_lexer *x, char **ret) {
        const char *text = x->line->text;
        size_t open = x->pos, end = segment_end(x->line, x->pos);
        _cleanup_free_ char *value = NULL;
        size_t n = 0;

        if (policy_lexer_peek(x) != '"') {
                x->error_pos = x->pos;
                return LEXER_VALUE_NO_QUOTE;
        }

        /* Unescaping only ever shrinks the text. */
        value = malloc(end - open);
        if (!value)
                return -ENOMEM;

        for (size_t i = open + 1; i < end; i++) {
                char c = text[i];

                if (c == '"') {
                        value[n] = '\0';
                        x->pos = i + 1;
                        *ret = TAKE_PTR(value);
                        return 0;
                }
                if (c == '\\') {
                        if (i + 1 >= end || (text[i + 1] != '"' && text[i + 1] != '\\')) {
                                x->error_pos = i;
                                return LEXER_VALUE_BAD_ESCAPE;
                        }
                        c = text[++i];
                }
                value[n++] = c;
        }

        x->error_pos = open;
        return end < x->line->length ? LEXER_VALUE_NEWLINE : LEXER_VALUE_UNTERMINATED;
}

void policy_lexer_describe(const struct policy_lexer *x, size_t pos, char *buf, size_t size) {
        const char *text = x->line->text;
        size_t n = 1;
        unsigned char c;

        if (pos >= x->line->length) {
                snprintf(buf, size, "end of line");
                return;
        }

        c = (unsigned char) text[pos];
        if (is_word_start((char) c))
                while (pos + n < x->line->length && is_word_char(text[pos + n]))
                        n++;
        else if (is_operator_char((char) c))
                while (pos + n < x->line->length && is_operator_char(text[pos + n]))
                        n++;
        else if (c < 0x20 || c >= 0x7f) {
                snprintf(buf, size, "byte 0x%02x", c);
                return;
        }

        if (n > 32)
                snprintf(buf, size, "'%.32s...'", text + pos);
        else
                snprintf(buf, size, "'%.*s'", (int) n, text + pos);
}

void policy_lexer_location(const struct policy_line *l, size_t pos, unsigned *ret_line, unsigned *ret_column) {
        const struct policy_segment *s = NULL;

        for (size_t i = 0; i < l->n_segments; i++) {
                if (l->segments[i].offset > pos)
                        break;
                s = &l->segments[i];
        }
        if (!s) {
                *ret_line = l->line;
                *ret_column = 1;
                return;
        }
        *ret_line = s->line;
        *ret_column = s->column + (unsigned) (pos - s->offset);
}
