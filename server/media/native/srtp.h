/*
 * SRTP (RFC 3711) for the relay's WebRTC sockets: one context per direction of one DTLS-SRTP association
 * (RFC 5764), keyed from the master key and salt the DTLS handshake exported.
 */
#ifndef OFFHOOK_SRTP_H
#define OFFHOOK_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* The DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) that browsers offer and werift selects. */
#define SRTP_AES128_CM_HMAC_SHA1_80 0x0001
#define SRTP_AEAD_AES_128_GCM 0x0007
/* The longest authentication tag any profile appends. */
#define SRTP_MAX_TAG 16
/* SSRCs a context tracks at once; a new one replaces the oldest. */
#define SRTP_STREAMS 4

typedef struct srtp_context srtp_context;

/* Master key and salt lengths for a profile; 0 for one we do not support. */
size_t srtp_key_length(int profile);
size_t srtp_salt_length(int profile);

/* A context that protects (outbound) or unprotects (inbound) packets; NULL when the profile is unknown. */
srtp_context *srtp_create(int profile, int inbound, const unsigned char *master_key, const unsigned char *master_salt);
void srtp_destroy(srtp_context *context);

/*
 * Encrypts an RTP packet of `length` bytes in place and appends its tag, which needs SRTP_MAX_TAG bytes of
 * room after the packet. Returns the new length, or 0 when the packet must not be sent: malformed, older
 * than the stream's first packet, or at an index already sent (the same IV twice would give the keystream,
 * and in GCM the authentication key, away: RFC 3711 §9.1, RFC 7714 §8.3).
 */
size_t srtp_protect(srtp_context *context, unsigned char *packet, size_t length);

/*
 * Authenticates and decrypts an SRTP packet in place. Returns the RTP packet's length, or 0 when it must be
 * dropped: malformed, not authentic, or a replay (RFC 3711 §3.3.2).
 */
size_t srtp_unprotect(srtp_context *context, unsigned char *packet, size_t length);

/* Where a stream stands: its SSRC, rollover counter and highest sequence number (RFC 3711 §3.2.1). */
typedef struct {
  uint32_t ssrc;
  uint32_t roc;
  uint16_t highest;
} srtp_stream_position;

/*
 * Carries on a stream another SRTP implementation (or another context) has been keeping, so that its
 * rollover counter is not taken to restart at 0; every index up to `highest` counts as already seen.
 */
void srtp_seed(srtp_context *context, srtp_stream_position position);

/* The streams a context keeps, up to `max` of them; returns how many it wrote. */
size_t srtp_positions(const srtp_context *context, srtp_stream_position *out, size_t max);

#endif
