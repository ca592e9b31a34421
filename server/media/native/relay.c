/*
 * The PBX's media relay fast path: UDP sockets for media legs (plain RTP, and WebRTC once keyed), polled on
 * Node's own event loop (libuv), that relay the audio of a bridged pair of legs in C, without a call into
 * JavaScript per packet.
 *
 * JavaScript (rtp-leg.ts, webrtc-leg.ts) stays in charge of every decision. For each socket it states what may be relayed:
 * the one source it latched, the payload types of the negotiated audio codec, the peer socket, where that
 * peer sends and with which payload type, and whether each side may receive and send (hold, state). A
 * packet that meets all of it has its header rewritten from the peer's outbound stream and is sent on the
 * peer's socket. Every other packet (the first from a phone, RTCP on a multiplexed port, telephone-events,
 * a stray source, anything odd) goes up to JavaScript as a datagram, which handles it as before.
 *
 * A WebRTC leg's socket is adopted rather than opened: werift bound it for ICE, and the relay reads a
 * duplicate of its descriptor once DTLS has exported the SRTP keys (webrtc-leg.ts). SRTP from any address
 * is authenticated, replay-checked and decrypted here (srtp.c) and then relayed or handed up decrypted; audio
 * relayed into such a socket is encrypted before it goes out. Everything else on it (STUN, DTLS, SRTCP) goes up as
 * received, for werift.
 *
 * State shared with JavaScript lives in one Float64Array per socket (see the slot numbers below, mirrored
 * in rtp-socket.ts, which checks them when it loads the addon): the outbound stream's fields, which the
 * rewrite below keeps exactly as OutboundStream.advance does; the counters RTCP reports need; and a ring of the relayed packets' headers
 * and arrival times, which JavaScript replays into its RFC 3550 reception statistics before a report. All
 * of it runs on the one thread of the event loop, so neither side needs a lock.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "open-files.h"
#include "srtp.h"

/* Slots of the shared state array; rtp-socket.ts names the same numbers and checks them against `layout`. */
enum {
  S_RECEIVED = 0,      /* packets relayed here (received from the phone or browser) */
  S_RING_COUNT = 1,    /* entries in the ring; JavaScript empties it */
  S_SSRC = 2,          /* outbound stream: our SSRC */
  S_SEQ_OFFSET = 3,
  S_TS_OFFSET = 4,
  S_SOURCE_SSRC = 5,   /* -1: none yet */
  S_LAST_SEQ = 6,
  S_LAST_TS = 7,
  S_LAST_SENT_AT = 8,  /* ms on the clock of performance.now() */
  S_CLOCK_RATE = 9,
  S_PACKETS_SENT = 10,
  S_OCTETS_SENT = 11,
  S_SENT_SINCE_REPORT = 12,
  S_RING = 16,         /* RING_ENTRIES × (ssrc, sequence number, timestamp, arrival ms) */
  RING_ENTRIES = 64,   /* 1.3 s of 20 ms packets; a full record costs one packet handed up */
  STATE_SLOTS = S_RING + 4 * RING_ENTRIES,
};

#define HEADER 12
#define BATCH 8
/* Larger than any RTP packet a phone sends (a jumbo Ethernet frame is 9000 bytes); a longer datagram is dropped. */
#define MAX_DATAGRAM 16384
/* Ports relaying into one port at once: the forks of a call that all sent early media to the caller. */
#define MAX_REFERRERS 8

typedef struct relay_port {
  napi_env env;
  int fd;
  int family;
  int closed;        /* closed from JavaScript, or its handle collected */
  int poll_closed;   /* libuv is done with the poll handle */
  int finalized;     /* JavaScript's handle is gone; the memory goes when both are */
  uv_poll_t poll;
  napi_ref on_message;
  napi_ref on_error;
  napi_ref state_ref;
  double *state;
  napi_async_context async;
  struct relay_port *peer;       /* where audio received here is relayed */
  struct relay_port *referrers[MAX_REFERRERS]; /* the ports that relay into this one */
  int referrer_count;
  /* What this socket may relay in, and how its own sends go out. */
  int receives;                  /* latched, negotiated, not on hold */
  int sends;                     /* connected, the phone receives, not on hold */
  uint32_t audio_types[4];       /* payload types of the audio codec, as a 128-bit set */
  struct sockaddr_storage source; /* the latched source */
  struct sockaddr_storage target; /* where this socket sends */
  socklen_t target_len;
  int payload_type;              /* what this socket's stream sends audio with */
  /* A WebRTC leg's socket (adopted from its ICE transport): SRTP both ways once keyed, else NULL. */
  int adopted;
  srtp_context *inbound;
  srtp_context *outbound;
} relay_port;

/* Per thread: each worker thread that loads the addon runs its own event loop, and its own performance.now(). */
static _Thread_local double clock_origin_ms = 0;
static _Thread_local unsigned char buffers[BATCH][MAX_DATAGRAM];
/* Where a packet JavaScript sends on a WebRTC socket is protected: SRTP appends a tag. */
static _Thread_local unsigned char sealed[MAX_DATAGRAM + SRTP_MAX_TAG];

static double now_ms(void) { return (double)uv_hrtime() / 1e6 - clock_origin_ms; }

static double wrap(double value, double modulus) {
  double r = fmod(value, modulus);
  return r < 0 ? r + modulus : r;
}

static int is_newer(double seq, double than) {
  double delta = wrap(seq - than, 65536);
  return delta != 0 && delta < 32768;
}

/* OutboundStream.currentTimestamp */
static double current_timestamp(const double *s, double now) {
  double elapsed = now - s[S_LAST_SENT_AT];
  if (elapsed < 0) elapsed = 0;
  return wrap(s[S_LAST_TS] + floor(elapsed * s[S_CLOCK_RATE] / 1000 + 0.5), 4294967296.0);
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return 0;
}

static uint16_t read16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t read32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void write16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static void write32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Relays one datagram if it is audio this port may relay; returns 0 to hand it to JavaScript instead. */
static int relay(relay_port *port, unsigned char *packet, size_t length, const struct sockaddr_storage *from) {
  relay_port *peer = port->peer;
  if (!peer || !port->receives || !peer->sends || peer->closed) return 0;
  if (length < HEADER || packet[0] >> 6 != 2) return 0;
  if (peer->adopted && (!peer->outbound || length + SRTP_MAX_TAG > MAX_DATAGRAM)) return 0; /* never in clear; room for the tag */
  unsigned second = packet[1];
  if (second >= 192 && second <= 223) return 0; /* RTCP on a multiplexed port (RFC 5761 §4) */
  unsigned type = second & 0x7f;
  if (!(port->audio_types[type >> 5] & (1u << (type & 31)))) return 0;
  /* A plain leg relays only its latched source. On a WebRTC socket the packet was authenticated, which
   * proves its sender better than an address: the browser may send on another candidate pair than the one
   * ICE nominated, and werift took its packets from any pair as well. */
  if (!port->inbound && !same_address(from, &port->source)) return 0;
  /* Where the payload lies past CSRCs and an extension, and before padding (rtp-leg.ts readRtp). */
  size_t start = HEADER + 4 * (packet[0] & 0x0f);
  if (packet[0] & 0x10) {
    if (length < start + 4) return 0;
    start += 4 + 4 * (size_t)read16(packet + start + 2);
  }
  size_t end = packet[0] & 0x20 ? length - packet[length - 1] : length;
  if (start > end || end > length) return 0;
  double *in = port->state;
  if (in[S_RING_COUNT] >= RING_ENTRIES) return 0; /* JavaScript drains the ring, then takes this one */

  uint32_t ssrc = read32(packet + 8);
  uint32_t seq = read16(packet + 2);
  uint32_t ts = read32(packet + 4);
  double now = now_ms();
  double *entry = in + S_RING + 4 * (size_t)in[S_RING_COUNT];
  entry[0] = ssrc;
  entry[1] = seq;
  entry[2] = ts;
  entry[3] = now;
  in[S_RING_COUNT] += 1;
  in[S_RECEIVED] += 1;

  /* OutboundStream.advance, on the peer's stream. */
  double *out = peer->state;
  int marker = (second & 0x80) != 0;
  if ((double)ssrc != out[S_SOURCE_SSRC]) {
    out[S_SOURCE_SSRC] = ssrc;
    out[S_SEQ_OFFSET] = wrap(out[S_LAST_SEQ] + 1 - seq, 65536);
    out[S_TS_OFFSET] = wrap(current_timestamp(out, now) - ts, 4294967296.0);
    marker = 1;
  }
  uint32_t out_seq = (seq + (uint32_t)out[S_SEQ_OFFSET]) & 0xffff;
  uint32_t out_ts = ts + (uint32_t)out[S_TS_OFFSET];
  if (is_newer(out_seq, out[S_LAST_SEQ])) {
    out[S_LAST_SEQ] = out_seq;
    out[S_LAST_TS] = out_ts;
    out[S_LAST_SENT_AT] = now;
  }
  unsigned char *header = packet + start - HEADER;
  header[0] = 0x80;
  header[1] = (unsigned char)((marker ? 0x80 : 0) | (peer->payload_type & 0x7f));
  write16(header + 2, out_seq);
  write32(header + 4, out_ts);
  write32(header + 8, (uint32_t)out[S_SSRC]);
  size_t size = end - start + HEADER;
  size_t payload = size - HEADER;
  if (peer->outbound && !(size = srtp_protect(peer->outbound, header, size))) return 1;
  /* As UDP would, a send the kernel refuses (a full buffer, an unreachable peer) is dropped; it counts as
   * sent, as in JavaScript. */
  sendto(peer->fd, header, size, MSG_DONTWAIT, (const struct sockaddr *)&peer->target, peer->target_len);
  out[S_PACKETS_SENT] += 1;
  out[S_OCTETS_SENT] += (double)payload;
  out[S_SENT_SINCE_REPORT] = 1;
  return 1;
}

/* An address as Node's dgram reports it: an IPv6 link-local one with its zone (fe80::1%eth0). */
static int format_address(const struct sockaddr_storage *from, char *text, size_t size) {
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)from;
    inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)size);
    return ntohs(in->sin_port);
  }
  if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)from;
    inet_ntop(AF_INET6, &in->sin6_addr, text, (socklen_t)size);
    if (in->sin6_scope_id != 0) {
      char zone[IF_NAMESIZE];
      size_t used = strlen(text);
      if (if_indextoname(in->sin6_scope_id, zone)) snprintf(text + used, size - used, "%%%s", zone);
      else snprintf(text + used, size - used, "%%%u", in->sin6_scope_id);
    }
    return ntohs(in->sin6_port);
  }
  text[0] = 0;
  return 0;
}

/* Calls a JavaScript listener from the event loop, as Node calls its own (an exception is uncaught). */
static void call_js(relay_port *port, napi_ref listener, size_t argc, napi_value *argv) {
  napi_env env = port->env;
  napi_value callback, receiver, result;
  napi_get_reference_value(env, listener, &callback);
  napi_get_global(env, &receiver);
  if (callback && napi_make_callback(env, port->async, receiver, callback, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

/* Hands a datagram up to JavaScript: as received, or (`decrypted`) an SRTP packet as the RTP it carried. */
static void deliver(relay_port *port, const unsigned char *packet, size_t length, const struct sockaddr_storage *from, int decrypted) {
  napi_env env = port->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
  int remote_port = format_address(from, text, sizeof text);
  napi_value argv[4];
  void *data;
  napi_create_buffer_copy(env, length, packet, &data, &argv[0]);
  napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &argv[1]);
  napi_create_int32(env, remote_port, &argv[2]);
  napi_get_boolean(env, decrypted, &argv[3]);
  call_js(port, port->on_message, 4, argv);
  napi_close_handle_scope(env, scope);
}

/* libuv stopped polling after an error: the socket hears nothing more, which the leg must learn. */
static void report_error(relay_port *port, int status) {
  napi_env env = port->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value message, error;
  napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  call_js(port, port->on_error, 1, &error);
  napi_close_handle_scope(env, scope);
}

/* SRTP rather than STUN, DTLS or SRTCP on a WebRTC socket (RFC 7983 §7, RFC 5761 §4). */
static int is_srtp(const unsigned char *packet, size_t length) {
  return length >= HEADER && packet[0] >= 128 && packet[0] <= 191 && !(packet[1] >= 192 && packet[1] <= 223);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  relay_port *port = poll->data;
  (void)events;
  if (port->closed) return;
  if (status < 0) {
    report_error(port, status);
    return;
  }
  struct mmsghdr messages[BATCH];
  struct iovec vectors[BATCH];
  struct sockaddr_storage sources[BATCH];
  /* At most a few batches per wake, so one busy socket cannot hold the loop. */
  for (int round = 0; round < 4 && !port->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      vectors[i].iov_base = buffers[i];
      vectors[i].iov_len = MAX_DATAGRAM;
      memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &sources[i];
      messages[i].msg_hdr.msg_namelen = sizeof sources[i];
    }
    int count = recvmmsg(port->fd, messages, BATCH, MSG_DONTWAIT, NULL);
    if (count <= 0) return;
    for (int i = 0; i < count && !port->closed; i++) {
      if (messages[i].msg_hdr.msg_flags & MSG_TRUNC) continue; /* larger than any RTP packet we take */
      size_t length = messages[i].msg_len;
      if (port->inbound && is_srtp(buffers[i], length)) {
        /* A WebRTC leg's media, from any address: what fails authentication or replays is dropped (RFC 3711
         * §3.3); the rest is relayed, or handed up decrypted. */
        if (!(length = srtp_unprotect(port->inbound, buffers[i], length))) continue;
        if (!relay(port, buffers[i], length, &sources[i])) deliver(port, buffers[i], length, &sources[i], 1);
        continue;
      }
      /* Anything else on a WebRTC socket (STUN, DTLS, SRTCP, a stray) goes up untouched, to its DTLS stack. */
      if (port->adopted || !relay(port, buffers[i], length, &sources[i])) deliver(port, buffers[i], length, &sources[i], 0);
    }
    if (count < BATCH) return;
  }
}

/* ---- JavaScript bindings ---- */

static napi_value throw_errno(napi_env env, const char *what, int code) {
  napi_value message, error, code_value;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(code));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  const char *name = code == EADDRINUSE ? "EADDRINUSE" : code == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : code == EACCES ? "EACCES" : "ESOCKET";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value);
  napi_set_named_property(env, error, "code", code_value);
  napi_throw(env, error);
  return NULL;
}

static int read_address(napi_env env, napi_value text, napi_value port_value, struct sockaddr_storage *out, socklen_t *length) {
  char address[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t size;
  int32_t port;
  if (napi_get_value_string_latin1(env, text, address, sizeof address, &size) != napi_ok || size >= sizeof address - 1) return 0;
  if (napi_get_value_int32(env, port_value, &port) != napi_ok || port < 0 || port > 65535) return 0;
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *length = sizeof *v4;
    return 1;
  }
  /* An IPv6 address may name its zone (RFC 4007 §11): an interface name or index after %. */
  char *zone = strchr(address, '%');
  if (zone) *zone++ = 0;
  if (inet_pton(AF_INET6, address, &v6->sin6_addr) != 1) return 0;
  if (zone) {
    char *end;
    unsigned long index = strtoul(zone, &end, 10);
    v6->sin6_scope_id = *zone && !*end ? (uint32_t)index : if_nametoindex(zone);
    if (v6->sin6_scope_id == 0) return 0;
  }
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons((uint16_t)port);
  *length = sizeof *v6;
  return 1;
}

static relay_port *read_port(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

static void on_poll_closed(uv_handle_t *handle) {
  relay_port *port = handle->data;
  port->poll_closed = 1;
  if (port->finalized) free(port);
}

static void drop_referrer(relay_port *peer, relay_port *port) {
  for (int i = 0; i < peer->referrer_count; i++) {
    if (peer->referrers[i] != port) continue;
    peer->referrers[i] = peer->referrers[--peer->referrer_count];
    return;
  }
}

/* Relays what `port` receives to `peer` (or nothing); a peer already fed by too many ports refuses, and
 * `port`'s audio goes up to JavaScript instead. */
static void link_peer(relay_port *port, relay_port *peer) {
  if (port->peer == peer) return;
  if (port->peer) drop_referrer(port->peer, port);
  port->peer = NULL;
  if (!peer || peer->referrer_count == MAX_REFERRERS) return;
  peer->referrers[peer->referrer_count++] = port;
  port->peer = peer;
}

static void release(relay_port *port) {
  if (port->closed) return;
  port->closed = 1;
  link_peer(port, NULL);
  for (int i = 0; i < port->referrer_count; i++) port->referrers[i]->peer = NULL;
  port->referrer_count = 0;
  napi_delete_reference(port->env, port->on_message);
  napi_delete_reference(port->env, port->on_error);
  if (port->state_ref) napi_delete_reference(port->env, port->state_ref);
  napi_async_destroy(port->env, port->async);
  port->state = NULL;
  srtp_destroy(port->inbound);
  srtp_destroy(port->outbound);
  port->inbound = port->outbound = NULL;
  /* uv_close takes the descriptor out of the loop's poll set at once, so it may be closed now: the port is
   * free for the next call as soon as close() returns, as a dgram socket's would be. */
  uv_close((uv_handle_t *)&port->poll, on_poll_closed);
  close(port->fd);
}

static void finalize_port(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay_port *port = data;
  release(port);
  port->finalized = 1;
  if (port->poll_closed) free(port);
}

/* The state argument: a Float64Array of the relay's size, or null for a socket that never relays (an RTCP
 * port). Returns 0 after throwing when it is neither. */
static int read_state(napi_env env, napi_value value, double **state) {
  napi_valuetype state_type;
  napi_typeof(env, value, &state_type);
  napi_typedarray_type type;
  size_t slots;
  *state = NULL;
  if (state_type != napi_null &&
      (napi_get_typedarray_info(env, value, &type, &slots, (void **)state, NULL, NULL) != napi_ok || type != napi_float64_array || slots < STATE_SLOTS)) {
    napi_throw_type_error(env, NULL, "state must be null or a Float64Array of the relay's size");
    return 0;
  }
  return 1;
}

/* Polls `fd` (which the port owns from now on) on Node's loop → [handle, bound port]; `argv` holds the
 * state, onMessage and onError arguments. */
static napi_value start_port(napi_env env, int fd, double *state, napi_value *argv, int adopted) {
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0 || (bound.ss_family != AF_INET && bound.ss_family != AF_INET6)) {
    close(fd);
    return throw_errno(env, "getsockname", EINVAL);
  }
  int bound_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port : ((struct sockaddr_in6 *)&bound)->sin6_port);
  uv_loop_t *loop;
  relay_port *port = calloc(1, sizeof *port);
  if (!port || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &port->poll, fd) != 0) {
    close(fd);
    free(port);
    return throw_errno(env, "poll", ENOMEM);
  }
  port->env = env;
  port->fd = fd;
  port->family = bound.ss_family;
  port->state = state;
  port->adopted = adopted;
  port->poll.data = port;
  napi_value name;
  napi_create_string_utf8(env, "offhook:rtp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &port->async);
  if (state) napi_create_reference(env, argv[0], 1, &port->state_ref);
  napi_create_reference(env, argv[1], 1, &port->on_message);
  napi_create_reference(env, argv[2], 1, &port->on_error);
  uv_poll_start(&port->poll, UV_READABLE, on_readable);

  napi_value result, handle, port_value;
  napi_create_external(env, port, finalize_port, NULL, &handle);
  napi_create_int32(env, bound_port, &port_value);
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, handle);
  napi_set_element(env, result, 1, port_value);
  return result;
}

/* open(address, port, state: Float64Array | null, onMessage(datagram, address, port, decrypted), onError(error))
 * → [handle, bound port] */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_storage address;
  socklen_t address_len;
  if (argc < 5 || !read_address(env, argv[0], argv[1], &address, &address_len)) {
    napi_throw_type_error(env, NULL, "open(address, port, state, onMessage, onError): an IP address and a port");
    return NULL;
  }
  double *state;
  if (!read_state(env, argv[2], &state)) return NULL;
  int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&address, address_len) != 0) {
    int code = errno;
    close(fd);
    return throw_errno(env, "bind", code);
  }
  return start_port(env, fd, state, argv + 2, 0);
}

/*
 * adopt(fd, state, onMessage, onError) → [handle, port]: polls a UDP socket that belongs to someone else (a
 * WebRTC leg's ICE transport, whose Node socket then stops reading), through a duplicate of its descriptor.
 * Every datagram goes up as received until `secure` keys the port; from then on SRTP, from any address, is
 * authenticated and decrypted here, and relayed or handed up decrypted.
 */
static napi_value js_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  int type = 0;
  socklen_t type_len = sizeof type;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 ||
      type != SOCK_DGRAM) {
    napi_throw_type_error(env, NULL, "adopt(fd, state, onMessage, onError): the descriptor of a UDP socket");
    return NULL;
  }
  double *state;
  if (!read_state(env, argv[1], &state)) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return throw_errno(env, "dup", errno);
  int flags = fcntl(copy, F_GETFL);
  if (flags < 0 || fcntl(copy, F_SETFL, flags | O_NONBLOCK) != 0) {
    int code = errno;
    close(copy);
    return throw_errno(env, "fcntl", code);
  }
  return start_port(env, copy, state, argv + 1, 1);
}

/* secure(handle, profile, localKey, localSalt, remoteKey, remoteSalt) → whether the profile is one we
 * protect: SRTP for an adopted socket, with the keys its DTLS handshake exported (RFC 5764 §4.2). */
static napi_value js_secure(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 6 ? read_port(env, argv[0]) : NULL;
  int32_t profile = 0;
  void *keys[4];
  size_t sizes[4];
  int ok = port && !port->closed && port->adopted && napi_get_value_int32(env, argv[1], &profile) == napi_ok;
  for (int i = 0; ok && i < 4; i++) ok = napi_get_buffer_info(env, argv[2 + i], &keys[i], &sizes[i]) == napi_ok;
  if (!ok) {
    napi_throw_type_error(env, NULL, "secure(handle, profile, localKey, localSalt, remoteKey, remoteSalt): an adopted socket and four buffers");
    return NULL;
  }
  size_t key_length = srtp_key_length(profile), salt_length = srtp_salt_length(profile);
  napi_value result;
  if (!key_length || sizes[0] != key_length || sizes[2] != key_length || sizes[1] != salt_length || sizes[3] != salt_length) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  srtp_destroy(port->outbound);
  srtp_destroy(port->inbound);
  port->outbound = srtp_create(profile, 0, keys[0], keys[1]);
  port->inbound = srtp_create(profile, 1, keys[2], keys[3]);
  if (!port->outbound || !port->inbound) {
    srtp_destroy(port->outbound);
    srtp_destroy(port->inbound);
    port->outbound = port->inbound = NULL;
  }
  napi_get_boolean(env, port->inbound != NULL, &result);
  return result;
}

/* send(handle, bytes, offset, length, port, address) → whether the kernel took it: sent at once, or dropped
 * as UDP would drop it, as is a datagram to an address that is no IP address of the socket's family. On an
 * adopted socket the bytes are an RTP packet, which goes out as SRTP (and nothing goes out before `secure`). */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 6 ? read_port(env, argv[0]) : NULL;
  void *data;
  size_t size;
  int32_t offset, length;
  struct sockaddr_storage target;
  socklen_t target_len;
  if (!port || napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok || napi_get_value_int32(env, argv[2], &offset) != napi_ok ||
      napi_get_value_int32(env, argv[3], &length) != napi_ok || offset < 0 || length < 0 || (size_t)offset + (size_t)length > size) {
    napi_throw_type_error(env, NULL, "send(handle, bytes, offset, length, port, address)");
    return NULL;
  }
  napi_value sent;
  int addressed = read_address(env, argv[5], argv[4], &target, &target_len) && target.ss_family == port->family;
  const void *bytes = (char *)data + offset;
  size_t count = (size_t)length;
  if (port->adopted) {
    count = port->outbound && count <= MAX_DATAGRAM ? (memcpy(sealed, bytes, count), srtp_protect(port->outbound, sealed, count)) : 0;
    bytes = sealed;
    if (!count) addressed = 0;
  }
  ssize_t result = port->closed || !addressed ? -1 : sendto(port->fd, bytes, count, MSG_DONTWAIT, (struct sockaddr *)&target, target_len);
  napi_get_boolean(env, result >= 0, &sent);
  return sent;
}

/*
 * configure(handle, peer | null, receives, sends, payloadType, audioTypes[4], sourceAddress, sourcePort,
 * targetAddress, targetPort): what the socket may relay to its peer. An address of "" leaves that side off.
 */
static napi_value js_configure(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 10 ? read_port(env, argv[0]) : NULL;
  if (!port || port->closed) {
    napi_throw_type_error(env, NULL, "configure: an open relay socket");
    return NULL;
  }
  napi_valuetype peer_type;
  napi_typeof(env, argv[1], &peer_type);
  relay_port *peer = peer_type == napi_external ? read_port(env, argv[1]) : NULL;
  bool receives = false, sends = false;
  int32_t payload_type = 0;
  napi_get_value_bool(env, argv[2], &receives);
  napi_get_value_bool(env, argv[3], &sends);
  napi_get_value_int32(env, argv[4], &payload_type);
  for (uint32_t i = 0; i < 4; i++) {
    napi_value word;
    uint32_t bits = 0;
    if (napi_get_element(env, argv[5], i, &word) == napi_ok) napi_get_value_uint32(env, word, &bits);
    port->audio_types[i] = bits;
  }
  socklen_t ignored;
  int has_source = read_address(env, argv[6], argv[7], &port->source, &ignored);
  int has_target = read_address(env, argv[8], argv[9], &port->target, &port->target_len);
  int relays = port->state != NULL;
  link_peer(port, relays && peer && !peer->closed && peer->state && peer != port ? peer : NULL);
  /* An adopted socket relays SRTP only: nothing before it is keyed. */
  int keyed = !port->adopted || port->inbound != NULL;
  port->receives = relays && keyed && receives && has_source;
  port->sends = relays && keyed && sends && has_target && port->target.ss_family == port->family;
  port->payload_type = payload_type;
  return NULL;
}

/* seed(handle, inbound, [ssrc, roc, highest, …]): where the streams of one direction stand (srtp_seed). */
static napi_value js_seed(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 3 ? read_port(env, argv[0]) : NULL;
  bool inbound = false;
  uint32_t length = 0;
  if (!port || port->closed || napi_get_value_bool(env, argv[1], &inbound) != napi_ok || napi_get_array_length(env, argv[2], &length) != napi_ok || length % 3) {
    napi_throw_type_error(env, NULL, "seed(handle, inbound, [ssrc, roc, highest, ...])");
    return NULL;
  }
  srtp_context *context = inbound ? port->inbound : port->outbound;
  for (uint32_t at = 0; context && at < length; at += 3) {
    uint32_t fields[3] = {0, 0, 0};
    for (uint32_t i = 0; i < 3; i++) {
      napi_value field;
      if (napi_get_element(env, argv[2], at + i, &field) == napi_ok) napi_get_value_uint32(env, field, &fields[i]);
    }
    srtp_seed(context, (srtp_stream_position){.ssrc = fields[0], .roc = fields[1], .highest = (uint16_t)fields[2]});
  }
  return NULL;
}

/* positions(handle, inbound) → [ssrc, roc, highest, …]: where the streams of one direction stand. */
static napi_value js_positions(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 2 ? read_port(env, argv[0]) : NULL;
  bool inbound = false;
  if (!port || napi_get_value_bool(env, argv[1], &inbound) != napi_ok) {
    napi_throw_type_error(env, NULL, "positions(handle, inbound)");
    return NULL;
  }
  srtp_stream_position positions[SRTP_STREAMS];
  srtp_context *context = inbound ? port->inbound : port->outbound;
  size_t count = context ? srtp_positions(context, positions, SRTP_STREAMS) : 0;
  napi_value result;
  napi_create_array_with_length(env, count * 3, &result);
  for (size_t i = 0; i < count; i++) {
    uint32_t fields[3] = {positions[i].ssrc, positions[i].roc, positions[i].highest};
    for (uint32_t f = 0; f < 3; f++) {
      napi_value value;
      napi_create_uint32(env, fields[f], &value);
      napi_set_element(env, result, (uint32_t)(i * 3 + f), value);
    }
  }
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  relay_port *port = argc == 1 ? read_port(env, argv[0]) : NULL;
  if (port) release(port);
  return NULL;
}

/* setClockOrigin(ms): the hrtime, in ms, at which performance.now() was 0, so both sides share one clock. */
static napi_value js_set_clock_origin(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) napi_get_value_double(env, argv[0], &clock_origin_ms);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
    {"adopt", NULL, js_adopt, NULL, NULL, NULL, napi_default, NULL},
    {"secure", NULL, js_secure, NULL, NULL, NULL, napi_default, NULL},
    {"seed", NULL, js_seed, NULL, NULL, NULL, napi_default, NULL},
    {"positions", NULL, js_positions, NULL, NULL, NULL, napi_default, NULL},
    {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
    {"configure", NULL, js_configure, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
    {"setClockOrigin", NULL, js_set_clock_origin, NULL, NULL, NULL, napi_default, NULL},
    {"raiseOpenFileLimit", NULL, open_files_raise, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  napi_value slots;
  napi_create_int32(env, STATE_SLOTS, &slots);
  napi_set_named_property(env, exports, "stateSlots", slots);
  /* Where each number sits, so that the JavaScript side can refuse an addon built from other sources. */
  const struct { const char *name; int slot; } layout[] = {
    {"received", S_RECEIVED}, {"ringCount", S_RING_COUNT}, {"stream", S_SSRC}, {"packetsSent", S_PACKETS_SENT},
    {"octetsSent", S_OCTETS_SENT}, {"sentSinceReport", S_SENT_SINCE_REPORT}, {"ring", S_RING},
  };
  napi_value layout_value;
  napi_create_object(env, &layout_value);
  for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++) {
    napi_value slot;
    napi_create_int32(env, layout[i].slot, &slot);
    napi_set_named_property(env, layout_value, layout[i].name, slot);
  }
  napi_set_named_property(env, exports, "layout", layout_value);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
