/* The load client's shared state and functions, private to load.c (the
 * run: setup, phases, server figures), conn.c (one connection's life) and
 * wire.c (messages and frames on the wire). One thread: nothing is locked. */
#ifndef LOAD_H
#define LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base64.h"
#include "sha1.h"
#include "wsbench.h"

enum cstate { C_FREE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING };
enum phase { P_SETUP, P_WARM, P_MEASURE, P_HOLD, P_DONE };

#define HDR_ROOM  14 /* largest client frame header: 2 + 8 + mask */
#define CTL_ROOM  (HDR_ROOM + 125)
#define SEQ_BYTES 8

struct conn {
	int fd;
	enum cstate st;
	bool want_out; /* EPOLLOUT is in the interest set */
	char accept[BASE64_ENCODED_LEN(SHA1_LEN) + 1];
	double t_begin; /* connect() time, for churn session times */

	unsigned char *obuf; /* bytes to send: [opos, olen) */
	size_t opos, olen;
	uint64_t tx_queued; /* messages asked for, not yet started */
	uint64_t tx_seq;    /* sequence number of the next/current message */
	size_t tx_left;	    /* bytes of the current message still to generate */
	size_t tx_off;
	unsigned char tx_key[4];
	unsigned char
	    ctl[CTL_ROOM]; /* a pong or close, sent between messages */
	size_t ctl_len;
	bool close_sent;

	unsigned char *ibuf; /* received, not yet parsed: [0, ilen) */
	size_t ilen;
	bool in_payload; /* inside a data frame's payload */
	bool rx_fin;
	bool in_msg; /* a fragmented message has started */
	uint64_t rx_left;
	size_t rx_off; /* bytes into the current message */
	uint64_t rx_seq;
	bool close_got;
	double *t_sent; /* send times, a ring indexed by seq % inflight */
	bool pending;	/* idle, fanout: started, not yet open or failed */

	/* fanout: the message being received, the sequence number expected
	 * next, whether one came yet, whether a gap was seen, never read */
	unsigned char fan_msg[FAN_MAX_SIZE];
	uint64_t fan_next;
	bool fan_started, fan_gap, slow;
};

/* load.c: the run's options, results and state, set up by load_run. */
extern const struct opts *o;
extern struct result *res;
extern int ep;
extern size_t nconns, bufsize, msg_total;
extern unsigned char *pattern; /* msg_total bytes: letters, "\n" if raw */
extern struct sockaddr_storage addr;
extern socklen_t addrlen;
extern uint64_t rng;
extern enum phase phase;
extern double t_measure, last_progress;
extern size_t n_open, n_failed, n_pending, n_started;
extern struct conn *conns;

/* load.c: the VmRSS of pid in KiB, or -1. */
long load_rss(int pid);

/* conn.c */

/* Records why in the result, closes c and counts it as failed. */
void conn_fail(struct conn *c, const char *why);
/* Adds or removes EPOLLOUT from c's interest set. */
void conn_want_out(struct conn *c, bool on);
/* A whole echo checked and consumed: counts it and queues what comes next
 * (another message, or churn's Close). */
void conn_on_message(struct conn *c);
/* Opens slot c again: resets its counters and connects to addr. A failure
 * is counted (conn_fail), not returned. */
void conn_start(struct conn *c);
/* Handles epoll events ev on c; a free slot ignores them. */
void conn_event(struct conn *c, uint32_t ev);

/* wire.c */

/* The next random word (xorshift64* on rng), for keys and masks. */
uint64_t wire_rand64(void);
/* Sends until EAGAIN or nothing is left; the caller must not touch c when
 * it returns -1 (the connection is gone). */
int tx_flush(struct conn *c);
/* Queues a Close 1000 and marks c closing. */
void tx_close(struct conn *c);
/* Parses every whole frame header and all payload bytes in ibuf. Returns -1
 * when the connection has failed. */
int rx_frames(struct conn *c);

/* fanout.c */

/* When the read that brought the current bytes returned (fanout). */
extern uint64_t fan_rx_ns;
uint64_t fan_now_ns(void);
/* c's socket is made, not yet connected: resets c's fan-out state. */
void fan_socket(struct conn *c);
/* c's handshake is done: a slow client stops reading here. */
void fan_open(struct conn *c);
/* Takes n payload bytes of c's current message; -1 if too long. */
int fan_data(struct conn *c, const unsigned char *p, size_t n);
/* c's message is whole: checks its order and counts its lag. */
void fan_message(struct conn *c);
/* Runs the setup and hold phases at time t; false once past them. */
bool fan_tick(double t);
/* Fills the result's lag percentiles and reader count. */
void fan_finish(void);

#endif
