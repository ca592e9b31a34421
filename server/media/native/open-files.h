/*
 * The process's open-file limit (RLIMIT_NOFILE), which Node cannot read nor set: every SIP connection, media
 * socket and database file takes a descriptor, and the usual soft limit of 1,024 is far below what the
 * system allows (the hard limit). Exported by the addon as raiseOpenFileLimit().
 */
#ifndef OFFHOOK_OPEN_FILES_H
#define OFFHOOK_OPEN_FILES_H

#define NAPI_VERSION 8
#include <node_api.h>

/* raiseOpenFileLimit() → { before, after, hard, error? }: the soft limit raised to the hard one where allowed; -1 is unlimited. */
napi_value open_files_raise(napi_env env, napi_callback_info info);

#endif
