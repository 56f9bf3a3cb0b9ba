// The credentials of the process at the other end of a Unix socket (SO_PEERCRED on Linux,
// getpeereid on macOS and the BSDs), for the agent's service: it identifies the OS user of a
// session part from the connection, never from what the session part says about itself.
// A Node-API addon (ABI-stable across Node versions), built by build.mjs with the system's C
// compiler.
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, int err) {
  napi_throw_error(env, "EPEERCRED", strerror(err));
  return NULL;
}

// peerCredentials(fd: number): { uid: number, gid: number, pid: number }  (pid -1 where unknown)
static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "peerCredentials takes a socket's file descriptor");
    return NULL;
  }
  int64_t uid, gid, pid = -1;
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, errno);
  uid = cred.uid;
  gid = cred.gid;
  pid = cred.pid;
#else
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) != 0) return throw_errno(env, errno);
  uid = u;
  gid = g;
#endif
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_int64(env, uid, &v);
  napi_set_named_property(env, out, "uid", v);
  napi_create_int64(env, gid, &v);
  napi_set_named_property(env, out, "gid", v);
  napi_create_int64(env, pid, &v);
  napi_set_named_property(env, out, "pid", v);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}
