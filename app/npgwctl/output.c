/*
 * output.c: how npgwctl shows a gateway's answer: -o json (the result as
 * sent), -o yaml (a block-style rendering that YAML 1.1 and 1.2 readers
 * both read back as the same JSON value), or text for people: key: value
 * lines, nested objects indented, lists of objects as tables.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "npgw_common.h"
#include "npgwctl.h"

int npgwctl_parse_format_in(const char *cmd, const char *s, unsigned int mask,
			    enum npgwctl_format *out)
{
	static const char *const names[] = {
		[NPGWCTL_FMT_TEXT] = "text", [NPGWCTL_FMT_JSON] = "json", [NPGWCTL_FMT_YAML] = "yaml",
		[NPGWCTL_FMT_WIDE] = "wide", [NPGWCTL_FMT_NAME] = "name",
	};
	char choices[64] = "";

	for (unsigned int f = 0; f < NPGW_ARRAY_SIZE(names); f++)
		if ((mask & (1u << f)) && strcasecmp(s, names[f]) == 0) {
			*out = (enum npgwctl_format)f;
			return 0;
		}
	for (unsigned int f = 0, k = 0, n = (unsigned int)__builtin_popcount(mask);
	     f < NPGW_ARRAY_SIZE(names); f++) {
		static const unsigned int order[] = {NPGWCTL_FMT_TEXT, NPGWCTL_FMT_WIDE,
						     NPGWCTL_FMT_JSON, NPGWCTL_FMT_YAML,
						     NPGWCTL_FMT_NAME};

		if (!(mask & (1u << order[f])))
			continue;
		k++;
		strcat(choices, k == 1 ? "" : k == n ? " or " : ", ");
		strcat(choices, names[order[f]]);
	}
	fprintf(stderr, "npgwctl %s: -o: '%s' is not %s\n", cmd, s, choices);
	return -1;
}

int npgwctl_parse_format(const char *cmd, const char *s, enum npgwctl_format *out)
{
	return npgwctl_parse_format_in(cmd, s, NPGWCTL_FMTS_DATA, out);
}

/* A number as JSON writes it: integers without a fraction. */
static void format_number(double d, char *buf, size_t len)
{
	if (d == floor(d) && fabs(d) <= 9007199254740992.0) /* 2^53: generations */
		snprintf(buf, len, "%.0f", d);
	else if (snprintf(buf, len, "%.15g", d), strtod(buf, NULL) != d)
		snprintf(buf, len, "%.17g", d); /* the shortest that reads back, as cJSON */
}

/* ---- YAML ---- */

/* Words a YAML 1.1 reader takes for booleans or null. */
static const char *const yaml_words[] = {
	"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
};

/*
 * Can s be written plain (unquoted) and read back as this same string by
 * YAML 1.1 and 1.2 readers? Only a conservative shape: a letter, '_' or
 * '/' first (so never a number, an indicator or a sexagesimal), then
 * letters, digits, '_', '.', '/', '-' and inner single spaces; not one of
 * the boolean and null words in any case.
 */
static bool yaml_plain_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-')
			continue;
		if (c == ' ' && i + 1 < n && s[i + 1] != ' ')
			continue;
		return false;
	}
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(yaml_words); i++)
		if (strcasecmp(s, yaml_words[i]) == 0)
			return false;
	return true;
}

/* A string, plain or double-quoted (JSON's escapes are YAML's). */
static void yaml_string(const char *s, FILE *out)
{
	cJSON *tmp;
	char *q;

	if (yaml_plain_ok(s)) {
		fputs(s, out);
		return;
	}
	tmp = cJSON_CreateString(s);
	q = tmp ? cJSON_PrintUnformatted(tmp) : NULL;
	fputs(q ? q : "\"\"", out);
	free(q);
	cJSON_Delete(tmp);
}

static void yaml_scalar(const cJSON *v, FILE *out)
{
	char num[64];

	if (cJSON_IsString(v)) {
		yaml_string(v->valuestring, out);
	} else if (cJSON_IsNumber(v)) {
		format_number(v->valuedouble, num, sizeof(num));
		fputs(num, out);
	} else if (cJSON_IsTrue(v)) {
		fputs("true", out);
	} else if (cJSON_IsFalse(v)) {
		fputs("false", out);
	} else if (cJSON_IsArray(v)) {
		fputs("[]", out);
	} else if (cJSON_IsObject(v)) {
		fputs("{}", out);
	} else {
		fputs("null", out);
	}
}

static bool yaml_block(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child != NULL;
}

static void yaml_node(const cJSON *v, int indent, bool inline_first, FILE *out);

/* Members of an object at indent; the first one's indentation is already
 * written when inline_first (it follows "- "). */
static void yaml_object(const cJSON *o, int indent, bool inline_first, FILE *out)
{
	for (const cJSON *c = o->child; c != NULL; c = c->next) {
		if (!(inline_first && c == o->child))
			fprintf(out, "%*s", indent, "");
		yaml_string(c->string, out);
		fputc(':', out);
		if (!yaml_block(c)) {
			fputc(' ', out);
			yaml_scalar(c, out);
			fputc('\n', out);
		} else if (cJSON_IsArray(c)) {
			fputc('\n', out); /* a list sits at its key's indentation */
			yaml_node(c, indent, false, out);
		} else {
			fputc('\n', out);
			yaml_node(c, indent + 2, false, out);
		}
	}
}

static void yaml_array(const cJSON *a, int indent, bool inline_first, FILE *out)
{
	for (const cJSON *c = a->child; c != NULL; c = c->next) {
		if (!(inline_first && c == a->child))
			fprintf(out, "%*s", indent, "");
		fputs("- ", out);
		if (!yaml_block(c)) {
			yaml_scalar(c, out);
			fputc('\n', out);
		} else {
			yaml_node(c, indent + 2, true, out);
		}
	}
}

static void yaml_node(const cJSON *v, int indent, bool inline_first, FILE *out)
{
	if (cJSON_IsObject(v) && v->child != NULL)
		yaml_object(v, indent, inline_first, out);
	else if (cJSON_IsArray(v) && v->child != NULL)
		yaml_array(v, indent, inline_first, out);
	else {
		yaml_scalar(v, out);
		fputc('\n', out);
	}
}

void npgwctl_print_yaml(const cJSON *v, FILE *out)
{
	yaml_node(v, 0, false, out);
}

/* ---- text ---- */

/* A value for a table cell or a key: value line; free() the result. */
static char *cell_text(const cJSON *v)
{
	char num[64], *s;

	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	if (cJSON_IsNumber(v)) {
		format_number(v->valuedouble, num, sizeof(num));
		return strdup(num);
	}
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNull(v) || v == NULL)
		return strdup("-");
	if (cJSON_IsArray(v) && v->child == NULL)
		return strdup("-");
	if (cJSON_IsArray(v)) {
		/* a list of scalars: comma-separated */
		size_t len = 0, cap = 64;
		bool scalars = true;

		for (const cJSON *c = v->child; c != NULL; c = c->next)
			scalars &= !cJSON_IsObject(c) && !cJSON_IsArray(c);
		if (scalars && (s = malloc(cap)) != NULL) {
			s[0] = '\0';
			for (const cJSON *c = v->child; c != NULL; c = c->next) {
				char *t = cell_text(c);
				size_t tl = t ? strlen(t) : 0;

				if (len + tl + 3 > cap) {
					char *n = realloc(s, cap = (len + tl + 3) * 2);

					if (n == NULL) {
						free(t);
						break;
					}
					s = n;
				}
				len += (size_t)sprintf(s + len, "%s%s", len ? "," : "", t ? t : "");
				free(t);
			}
			return s;
		}
	}
	return cJSON_PrintUnformatted(v);
}

static bool all_objects(const cJSON *a)
{
	if (!cJSON_IsArray(a) || a->child == NULL)
		return false;
	for (const cJSON *c = a->child; c != NULL; c = c->next)
		if (!cJSON_IsObject(c))
			return false;
	return true;
}

#define TABLE_MAX_COLS 16
#define TABLE_MAX_CELL 60

/* Print an array of objects as a table: columns are the keys in the order
 * they first appear, headers upper-cased; long cells are cut. */
void npgwctl_print_table(const cJSON *a, int indent, FILE *out)
{
	const char *cols[TABLE_MAX_COLS];
	size_t width[TABLE_MAX_COLS], n_cols = 0;

	for (const cJSON *row = a->child; row != NULL; row = row->next)
		for (const cJSON *c = row->child; c != NULL; c = c->next) {
			size_t i;

			for (i = 0; i < n_cols; i++)
				if (strcmp(cols[i], c->string) == 0)
					break;
			if (i == n_cols && n_cols < TABLE_MAX_COLS) {
				cols[n_cols] = c->string;
				width[n_cols++] = strlen(c->string);
			}
		}
	for (const cJSON *row = a->child; row != NULL; row = row->next)
		for (size_t i = 0; i < n_cols; i++) {
			char *t = cell_text(cJSON_GetObjectItemCaseSensitive(row, cols[i]));
			size_t l = t ? strlen(t) : 0;

			if (l > TABLE_MAX_CELL)
				l = TABLE_MAX_CELL;
			if (l > width[i])
				width[i] = l;
			free(t);
		}
	fprintf(out, "%*s", indent, "");
	for (size_t i = 0; i < n_cols; i++) {
		for (const char *p = cols[i]; *p; p++)
			fputc(*p == '_' ? '-' : toupper((unsigned char)*p), out);
		if (i + 1 < n_cols)
			fprintf(out, "%*s", (int)(width[i] - strlen(cols[i]) + 2), "");
	}
	fputc('\n', out);
	for (const cJSON *row = a->child; row != NULL; row = row->next) {
		fprintf(out, "%*s", indent, "");
		for (size_t i = 0; i < n_cols; i++) {
			char *t = cell_text(cJSON_GetObjectItemCaseSensitive(row, cols[i]));
			const char *s = t ? t : "";
			size_t l = strlen(s);

			if (l > TABLE_MAX_CELL) {
				fprintf(out, "%.*s...", TABLE_MAX_CELL - 3, s);
				l = TABLE_MAX_CELL;
			} else {
				fputs(s, out);
			}
			if (i + 1 < n_cols)
				fprintf(out, "%*s", (int)(width[i] - l + 2), "");
			free(t);
		}
		fputc('\n', out);
	}
}

static void text_node(const cJSON *v, int indent, FILE *out)
{
	if (all_objects(v)) {
		npgwctl_print_table(v, indent, out);
		return;
	}
	if (cJSON_IsArray(v) && v->child != NULL) {
		for (const cJSON *c = v->child; c != NULL; c = c->next) {
			if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
				fprintf(out, "%*s-\n", indent, "");
				text_node(c, indent + 2, out);
			} else {
				char *t = cell_text(c);

				fprintf(out, "%*s%s\n", indent, "", t ? t : "");
				free(t);
			}
		}
		return;
	}
	if (!cJSON_IsObject(v) || v->child == NULL) {
		char *t = cell_text(v);

		fprintf(out, "%*s%s\n", indent, "", t ? t : "");
		free(t);
		return;
	}
	for (const cJSON *c = v->child; c != NULL; c = c->next) {
		if ((cJSON_IsObject(c) && c->child != NULL) || all_objects(c)) {
			fprintf(out, "%*s%s:\n", indent, "", c->string);
			text_node(c, indent + 2, out);
		} else {
			char *t = cell_text(c);

			fprintf(out, "%*s%s: %s\n", indent, "", c->string, t ? t : "");
			free(t);
		}
	}
}

void npgwctl_print_text(const cJSON *v, FILE *out)
{
	text_node(v, 0, out);
}

/* Integers from 10^15 to 2^53 (generations) as their exact digits: cJSON
 * prints such numbers with 15 significant digits. */
static void exact_integers(cJSON *n)
{
	for (; n != NULL; n = n->next) {
		double d = n->valuedouble;
		char buf[24];

		if (cJSON_IsNumber(n) && d == floor(d) && fabs(d) >= 1e15 &&
		    fabs(d) <= 9007199254740992.0) {
			snprintf(buf, sizeof(buf), "%.0f", d);
			char *raw = strdup(buf);

			if (raw != NULL) {
				n->type = cJSON_Raw;
				n->valuestring = raw;
			}
		}
		exact_integers(n->child);
	}
}

void npgwctl_print_result(const cJSON *result, enum npgwctl_format fmt)
{
	cJSON *copy;
	char *s;

	switch (fmt) {
	case NPGWCTL_FMT_JSON:
		/* cJSON indents with tabs and puts one after each colon; strings
		 * hold no raw tab (escaped), so every tab is layout: make it spaces. */
		copy = cJSON_Duplicate(result, true);
		if (copy != NULL)
			exact_integers(copy);
		s = cJSON_Print(copy != NULL ? copy : result);
		cJSON_Delete(copy);
		if (s != NULL) {
			bool line_start = true;

			for (const char *c = s; *c; c++) {
				if (*c == '\t')
					fputs(line_start ? "  " : " ", stdout);
				else
					putchar(*c);
				line_start = *c == '\n' || (line_start && *c == '\t');
			}
			putchar('\n');
		}
		free(s);
		break;
	case NPGWCTL_FMT_YAML:
		npgwctl_print_yaml(result, stdout);
		break;
	default: /* text; wide and name where a command has no table of its own */
		npgwctl_print_text(result, stdout);
		break;
	}
}
