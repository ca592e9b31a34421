/*
 * raiseOpenFileLimit(): raises the soft open-file limit to the hard one, as any process may (setrlimit(2)),
 * and says what it was, what it is now and what the hard limit is. A failure to raise is reported, not
 * thrown: the PBX runs on within the limit it has.
 */
#include "open-files.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

/* Linux refuses a soft limit above fs.nr_open (1,048,576 by default), so an unlimited hard limit asks for that. */
#define NR_OPEN_DEFAULT 1048576

static napi_value limit_value(napi_env env, rlim_t limit) {
  napi_value value;
  napi_create_double(env, limit == RLIM_INFINITY ? -1 : (double)limit, &value);
  return value;
}

napi_value open_files_raise(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit limits;
  if (getrlimit(RLIMIT_NOFILE, &limits) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  rlim_t before = limits.rlim_cur;
  rlim_t target = limits.rlim_max == RLIM_INFINITY ? NR_OPEN_DEFAULT : limits.rlim_max;
  const char *failure = NULL;
  if (before != RLIM_INFINITY && before < target) {
    struct rlimit raised = {target, limits.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) failure = strerror(errno);
  }
  if (getrlimit(RLIMIT_NOFILE, &limits) != 0) limits.rlim_cur = before;

  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "before", limit_value(env, before));
  napi_set_named_property(env, result, "after", limit_value(env, limits.rlim_cur));
  napi_set_named_property(env, result, "hard", limit_value(env, limits.rlim_max));
  if (failure) {
    napi_value error;
    napi_create_string_utf8(env, failure, NAPI_AUTO_LENGTH, &error);
    napi_set_named_property(env, result, "error", error);
  }
  return result;
}
