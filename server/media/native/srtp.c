/*
 * SRTP (RFC 3711) with OpenSSL's ciphers, which the Node binary that loads the addon already carries.
 *
 * Two profiles, the ones DTLS-SRTP negotiates with browsers:
 * - SRTP_AES128_CM_HMAC_SHA1_80: AES in counter mode, and an 80-bit HMAC-SHA1 tag over the packet and
 *   its rollover counter (RFC 3711 §4.1.1, §4.2);
 * - SRTP_AEAD_AES_128_GCM: AES-GCM with the RTP header as associated data and a 128-bit tag (RFC 7714 §8).
 * Session keys come from the master key and salt by the AES-CM key derivation with a key derivation rate
 * of 0 (RFC 3711 §4.3; RFC 7714 §11 pads GCM's 96-bit salt with zeros to the 112 bits it takes).
 *
 * Each context keeps, per SSRC, the rollover counter and highest sequence number that make the 48-bit
 * packet index (RFC 3711 §3.3.1), and on the inbound side a 64-packet replay window (§3.3.2).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

enum {
  KEY = 16,
  SALT = 14,
  GCM_IV = 12,
  AUTH_KEY = 20,
  CM_TAG = 10,
  GCM_TAG = 16,
  HEADER = 12,
  STREAMS = SRTP_STREAMS,
  WINDOW = 64,
};

/* RFC 3711 §4.3.1 labels for SRTP (SRTCP stays with the DTLS stack in JavaScript). */
enum { LABEL_ENCRYPTION = 0x00, LABEL_AUTHENTICATION = 0x01, LABEL_SALT = 0x02 };

typedef struct {
  uint32_t ssrc;
  uint32_t roc;        /* rollover counter */
  uint16_t highest;    /* highest sequence number seen (sent, on the outbound side) */
  uint64_t window;     /* bit n: the packet n below the highest index was received */
  int used;
} stream_state;

struct srtp_context {
  int profile;
  int inbound;
  EVP_CIPHER_CTX *cipher;
  HMAC_CTX *auth;               /* AES-CM only */
  unsigned char salt[SALT];     /* the session salt; GCM uses its first 12 bytes */
  stream_state streams[STREAMS];
  int next_evicted;
};

size_t srtp_key_length(int profile) {
  return profile == SRTP_AES128_CM_HMAC_SHA1_80 || profile == SRTP_AEAD_AES_128_GCM ? KEY : 0;
}

size_t srtp_salt_length(int profile) {
  return profile == SRTP_AES128_CM_HMAC_SHA1_80 ? SALT : profile == SRTP_AEAD_AES_128_GCM ? GCM_IV : 0;
}

/* The AES-CM PRF of RFC 3711 §4.3.3: the key stream of IV = (salt XOR label at octet 7) || counter. */
static int derive(const unsigned char *master_key, const unsigned char *salt, unsigned char label, unsigned char *out, size_t length) {
  EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
  int ok = ecb && EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, master_key, NULL) == 1;
  if (ok) EVP_CIPHER_CTX_set_padding(ecb, 0);
  for (size_t done = 0, counter = 0; ok && done < length; counter++) {
    unsigned char block[16], stream[16];
    int written = 0;
    memcpy(block, salt, SALT);
    block[7] ^= label;
    block[14] = (unsigned char)(counter >> 8);
    block[15] = (unsigned char)counter;
    ok = EVP_EncryptUpdate(ecb, stream, &written, block, sizeof block) == 1 && written == 16;
    size_t take = length - done < 16 ? length - done : 16;
    memcpy(out + done, stream, take);
    done += take;
  }
  EVP_CIPHER_CTX_free(ecb);
  return ok;
}

srtp_context *srtp_create(int profile, int inbound, const unsigned char *master_key, const unsigned char *master_salt) {
  size_t salt_length = srtp_salt_length(profile);
  if (!salt_length) return NULL;
  unsigned char salt[SALT] = {0}, key[KEY], auth_key[AUTH_KEY];
  memcpy(salt, master_salt, salt_length);
  srtp_context *context = calloc(1, sizeof *context);
  if (!context) return NULL;
  context->profile = profile;
  context->inbound = inbound;
  context->cipher = EVP_CIPHER_CTX_new();
  int gcm = profile == SRTP_AEAD_AES_128_GCM;
  int ok = context->cipher && derive(master_key, salt, LABEL_ENCRYPTION, key, KEY) && derive(master_key, salt, LABEL_SALT, context->salt, SALT);
  if (ok && gcm) {
    ok = (inbound ? EVP_DecryptInit_ex(context->cipher, EVP_aes_128_gcm(), NULL, key, NULL) : EVP_EncryptInit_ex(context->cipher, EVP_aes_128_gcm(), NULL, key, NULL)) == 1;
  } else if (ok) {
    /* Counter mode encrypts and decrypts alike. */
    ok = EVP_EncryptInit_ex(context->cipher, EVP_aes_128_ctr(), NULL, key, NULL) == 1 && derive(master_key, salt, LABEL_AUTHENTICATION, auth_key, AUTH_KEY) &&
         (context->auth = HMAC_CTX_new()) != NULL && HMAC_Init_ex(context->auth, auth_key, AUTH_KEY, EVP_sha1(), NULL) == 1;
  }
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(auth_key, sizeof auth_key);
  if (!ok) {
    srtp_destroy(context);
    return NULL;
  }
  return context;
}

void srtp_destroy(srtp_context *context) {
  if (!context) return;
  EVP_CIPHER_CTX_free(context->cipher);
  HMAC_CTX_free(context->auth);
  OPENSSL_cleanse(context, sizeof *context);
  free(context);
}

static uint32_t read32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Where the payload starts: past the CSRCs and a header extension (RFC 3550 §5.1, §5.3.1); 0 if malformed. */
static size_t header_length(const unsigned char *packet, size_t length) {
  if (length < HEADER || packet[0] >> 6 != 2) return 0;
  size_t start = HEADER + 4 * (size_t)(packet[0] & 0x0f);
  if (packet[0] & 0x10) {
    if (length < start + 4) return 0;
    start += 4 + 4 * (size_t)(packet[start + 2] << 8 | packet[start + 3]);
  }
  return start <= length ? start : 0;
}

static stream_state *find_stream(srtp_context *context, uint32_t ssrc) {
  for (int i = 0; i < STREAMS; i++) {
    if (context->streams[i].used && context->streams[i].ssrc == ssrc) return &context->streams[i];
  }
  return NULL;
}

/* A stream not seen before starts at its first packet's sequence number with a rollover counter of 0
 * (RFC 3711 §3.3.1); it takes the place of the oldest once that packet is accepted. */
static stream_state new_stream(uint32_t ssrc, uint16_t seq) { return (stream_state){.ssrc = ssrc, .roc = 0, .highest = seq, .window = 0, .used = 1}; }

static stream_state *keep_stream(srtp_context *context, const stream_state *stream) {
  stream_state *slot = &context->streams[context->next_evicted];
  context->next_evicted = (context->next_evicted + 1) % STREAMS;
  *slot = *stream;
  return slot;
}

/* The packet's rollover counter as RFC 3711 §3.3.1 (Appendix A) estimates it; -1 before the stream began. */
static int64_t estimate_roc(const stream_state *stream, uint16_t seq) {
  int64_t roc = stream->roc;
  if (stream->highest < 32768) return (int)seq - stream->highest > 32768 ? roc - 1 : roc;
  return stream->highest - 32768 > (int)seq ? roc + 1 : roc;
}

static uint64_t index_of(int64_t roc, uint16_t seq) { return (uint64_t)roc << 16 | seq; }

/* Moves the stream's highest index (and the replay window) on to a packet just accepted. */
static void accept_index(stream_state *stream, int64_t roc, uint16_t seq) {
  uint64_t highest = index_of(stream->roc, stream->highest), index = index_of(roc, seq);
  if (index > highest) {
    uint64_t shift = index - highest;
    stream->window = shift >= WINDOW ? 1 : stream->window << shift | 1;
    stream->roc = (uint32_t)roc;
    stream->highest = seq;
  } else {
    stream->window |= (uint64_t)1 << (highest - index);
  }
}

static int replayed(const stream_state *stream, int64_t roc, uint16_t seq) {
  uint64_t highest = index_of(stream->roc, stream->highest), index = index_of(roc, seq);
  if (index > highest) return 0;
  uint64_t behind = highest - index;
  return behind >= WINDOW || (stream->window >> behind & 1);
}

static void cm_iv(const srtp_context *context, uint32_t ssrc, uint32_t roc, uint16_t seq, unsigned char iv[16]) {
  memcpy(iv, context->salt, SALT);
  iv[14] = iv[15] = 0;
  const unsigned char index[10] = {
    (unsigned char)(ssrc >> 24), (unsigned char)(ssrc >> 16), (unsigned char)(ssrc >> 8), (unsigned char)ssrc,
    (unsigned char)(roc >> 24), (unsigned char)(roc >> 16), (unsigned char)(roc >> 8), (unsigned char)roc,
    (unsigned char)(seq >> 8), (unsigned char)seq,
  };
  for (int i = 0; i < 10; i++) iv[4 + i] ^= index[i];
}

static void gcm_iv(const srtp_context *context, uint32_t ssrc, uint32_t roc, uint16_t seq, unsigned char iv[GCM_IV]) {
  const unsigned char fields[GCM_IV] = {
    0, 0,
    (unsigned char)(ssrc >> 24), (unsigned char)(ssrc >> 16), (unsigned char)(ssrc >> 8), (unsigned char)ssrc,
    (unsigned char)(roc >> 24), (unsigned char)(roc >> 16), (unsigned char)(roc >> 8), (unsigned char)roc,
    (unsigned char)(seq >> 8), (unsigned char)seq,
  };
  for (int i = 0; i < GCM_IV; i++) iv[i] = fields[i] ^ context->salt[i];
}

/* HMAC-SHA1 over the authenticated portion and the rollover counter (RFC 3711 §4.2). */
static int cm_tag(srtp_context *context, const unsigned char *packet, size_t length, uint32_t roc, unsigned char tag[20]) {
  const unsigned char counter[4] = {(unsigned char)(roc >> 24), (unsigned char)(roc >> 16), (unsigned char)(roc >> 8), (unsigned char)roc};
  unsigned int written = 0;
  return HMAC_Init_ex(context->auth, NULL, 0, NULL, NULL) == 1 && HMAC_Update(context->auth, packet, length) == 1 &&
         HMAC_Update(context->auth, counter, sizeof counter) == 1 && HMAC_Final(context->auth, tag, &written) == 1 && written == 20;
}

static int ctr_crypt(srtp_context *context, const unsigned char iv[16], unsigned char *data, size_t length) {
  int written = 0;
  return EVP_EncryptInit_ex(context->cipher, NULL, NULL, NULL, iv) == 1 && EVP_EncryptUpdate(context->cipher, data, &written, data, (int)length) == 1 &&
         (size_t)written == length;
}

size_t srtp_protect(srtp_context *context, unsigned char *packet, size_t length) {
  size_t start = header_length(packet, length);
  if (!start || context->inbound) return 0;
  uint32_t ssrc = read32(packet + 8);
  uint16_t seq = (uint16_t)(packet[2] << 8 | packet[3]);
  stream_state fresh = new_stream(ssrc, seq);
  stream_state *stream = find_stream(context, ssrc);
  if (!stream) stream = keep_stream(context, &fresh);
  int64_t roc = estimate_roc(stream, seq);
  if (roc < 0 || roc > UINT32_MAX || replayed(stream, roc, seq)) return 0;
  accept_index(stream, roc, seq);
  if (context->profile == SRTP_AEAD_AES_128_GCM) {
    unsigned char iv[GCM_IV];
    int written = 0;
    gcm_iv(context, ssrc, (uint32_t)roc, seq, iv);
    size_t payload = length - start;
    int ok = EVP_EncryptInit_ex(context->cipher, NULL, NULL, NULL, iv) == 1 && EVP_EncryptUpdate(context->cipher, NULL, &written, packet, (int)start) == 1 &&
             EVP_EncryptUpdate(context->cipher, packet + start, &written, packet + start, (int)payload) == 1 &&
             EVP_EncryptFinal_ex(context->cipher, packet + length, &written) == 1 &&
             EVP_CIPHER_CTX_ctrl(context->cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG, packet + length) == 1;
    return ok ? length + GCM_TAG : 0;
  }
  unsigned char iv[16], tag[20];
  cm_iv(context, ssrc, (uint32_t)roc, seq, iv);
  if (!ctr_crypt(context, iv, packet + start, length - start) || !cm_tag(context, packet, length, (uint32_t)roc, tag)) return 0;
  memcpy(packet + length, tag, CM_TAG);
  return length + CM_TAG;
}

void srtp_seed(srtp_context *context, srtp_stream_position position) {
  stream_state seeded = {.ssrc = position.ssrc, .roc = position.roc, .highest = position.highest, .window = ~(uint64_t)0, .used = 1};
  stream_state *known = find_stream(context, position.ssrc);
  if (known) *known = seeded;
  else keep_stream(context, &seeded);
}

size_t srtp_positions(const srtp_context *context, srtp_stream_position *out, size_t max) {
  size_t count = 0;
  for (int i = 0; i < STREAMS && count < max; i++) {
    const stream_state *stream = &context->streams[i];
    if (stream->used) out[count++] = (srtp_stream_position){.ssrc = stream->ssrc, .roc = stream->roc, .highest = stream->highest};
  }
  return count;
}

size_t srtp_unprotect(srtp_context *context, unsigned char *packet, size_t length) {
  size_t tag_length = context->profile == SRTP_AEAD_AES_128_GCM ? GCM_TAG : CM_TAG;
  if (!context->inbound || length < HEADER + tag_length) return 0;
  size_t sealed = length - tag_length;
  size_t start = header_length(packet, sealed);
  if (!start) return 0;
  uint32_t ssrc = read32(packet + 8);
  uint16_t seq = (uint16_t)(packet[2] << 8 | packet[3]);
  /* An unknown SSRC is tracked only once its packet proves authentic, so forged ones cannot push real
   * streams out. */
  stream_state fresh = new_stream(ssrc, seq);
  stream_state *known = find_stream(context, ssrc);
  stream_state *stream = known ? known : &fresh;
  int64_t roc = estimate_roc(stream, seq);
  if (roc < 0 || roc > UINT32_MAX || replayed(stream, roc, seq)) return 0;
  if (context->profile == SRTP_AEAD_AES_128_GCM) {
    unsigned char iv[GCM_IV];
    int written = 0;
    gcm_iv(context, ssrc, (uint32_t)roc, seq, iv);
    unsigned char tag[GCM_TAG];
    memcpy(tag, packet + sealed, GCM_TAG);
    int ok = EVP_DecryptInit_ex(context->cipher, NULL, NULL, NULL, iv) == 1 && EVP_DecryptUpdate(context->cipher, NULL, &written, packet, (int)start) == 1 &&
             EVP_DecryptUpdate(context->cipher, packet + start, &written, packet + start, (int)(sealed - start)) == 1 &&
             EVP_CIPHER_CTX_ctrl(context->cipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1 &&
             EVP_DecryptFinal_ex(context->cipher, packet + sealed, &written) == 1;
    if (!ok) return 0;
  } else {
    unsigned char iv[16], tag[20];
    if (!cm_tag(context, packet, sealed, (uint32_t)roc, tag) || CRYPTO_memcmp(tag, packet + sealed, CM_TAG) != 0) return 0;
    cm_iv(context, ssrc, (uint32_t)roc, seq, iv);
    if (!ctr_crypt(context, iv, packet + start, sealed - start)) return 0;
  }
  accept_index(known ? known : keep_stream(context, &fresh), roc, seq);
  return sealed;
}
