/*
 * names.c: the name rules of Kubernetes (apimachinery's validation
 * package): DNS-1123 labels and subdomains, qualified label keys, label
 * values, and IANA service names for named ports. Each checker returns NULL
 * when the name is valid, or a short reason for the message.
 */
#include <string.h>

#include "k8s_private.h"

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? of n bytes */
static const char *dns_label(const char *s, size_t n)
{
	if (n == 0)
		return "must not be empty";
	if (n > 63)
		return "must be no more than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return "must consist of lower case alphanumeric characters or '-'";
	if (!lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return "must start and end with an alphanumeric character";
	return NULL;
}

const char *k8s_check_dns_label(const char *s)
{
	return dns_label(s, strlen(s));
}

const char *k8s_check_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > 253)
		return "must be no more than 253 characters";
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		const char *why = dns_label(p, len);

		if (why != NULL)
			return len > 63 ? why
					: "must consist of lower case alphanumeric characters, '-' or "
					  "'.', and start and end with an alphanumeric character";
		if (dot == NULL)
			return NULL;
		p = dot + 1;
	}
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 */
static const char *label_name(const char *s, size_t n)
{
	if (n > 63)
		return "must be no more than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return "must consist of alphanumeric characters, '-', '_' or '.'";
	if (n > 0 && (!alnum(s[0]) || !alnum(s[n - 1])))
		return "must start and end with an alphanumeric character";
	return NULL;
}

const char *k8s_check_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *name = s;

	if (slash != NULL) {
		size_t plen = (size_t)(slash - s);
		char prefix[256];

		if (plen == 0)
			return "prefix before '/' must not be empty";
		if (plen > 253)
			return "prefix must be no more than 253 characters";
		memcpy(prefix, s, plen);
		prefix[plen] = '\0';
		if (k8s_check_dns_subdomain(prefix) != NULL)
			return "prefix must be a DNS subdomain (lower case alphanumeric, '-' and '.')";
		name = slash + 1;
		if (strchr(name, '/') != NULL)
			return "must have at most one '/'";
	}
	if (name[0] == '\0')
		return "name part must not be empty";
	return label_name(name, strlen(name));
}

const char *k8s_check_label_value(const char *s)
{
	return label_name(s, strlen(s));
}

/* IsValidPortName: 1-15 of [a-z0-9-], a letter somewhere, no '-' at either
 * end, no "--". */
const char *k8s_check_port_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n == 0)
		return "must not be empty";
	if (n > 15)
		return "must be no more than 15 characters";
	for (size_t i = 0; i < n; i++) {
		if (!lower_alnum(s[i]) && s[i] != '-')
			return "must contain only lower case alphanumeric characters and '-'";
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
	}
	if (!letter)
		return "must contain at least one letter";
	if (s[0] == '-' || s[n - 1] == '-')
		return "must not begin or end with '-'";
	if (strstr(s, "--") != NULL)
		return "must not contain '--'";
	return NULL;
}
