/*
 * state_private.h: helpers the snapshot (state.c) and the journal
 * (journal.c) share.
 */
#ifndef NPGW_STATE_PRIVATE_H
#define NPGW_STATE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"

/* A one-line reason into err (errlen bytes; err may be NULL or errlen 0). */
void state_set_err(char *err, size_t errlen, const char *fmt, ...) NPGW_PRINTF(3, 4);

/* mkdir -p, mode 0700 for what is created. 0 or a negative errno (reason
 * in err). */
int state_make_dirs(const char *dir, char *err, size_t errlen);

/* Strict decimal uint64: digits only, no sign, no leading zero, no
 * overflow. */
bool state_parse_u64(const char *s, uint64_t *out);

#endif /* NPGW_STATE_PRIVATE_H */
