/* SPDX-License-Identifier: GPL-2.0 */
/*
 * req: what a call's first bytes are, HTTP/1.x, Redis (RESP) or PostgreSQL, a request or
 * a response, its method or command and its status (req.sys.bpf.h reads the bytes and
 * follows the connection). Pure: no map, no helper; each byte at a fixed offset, so the
 * verifier sees every access bounded.
 */
#ifndef KSIGHT_REQ_PARSE_BPF_H
#define KSIGHT_REQ_PARSE_BPF_H

#include "common.bpf.h"
#include "req.h"

/* What the first bytes of a call are */
#define REQ_K_NONE 0
#define REQ_K_REQ 1		/* a request of proto */
#define REQ_K_RESP 2		/* a response of proto */
#define REQ_K_EITHER 3		/* RESP '*': a request, or an array reply; PostgreSQL 'E' */
#define REQ_K_HELLO 4		/* PostgreSQL's startup (or SSL) request: the role, no request */

/* A call's first bytes as classified. */
struct req_peek {
	__u8 kind;		/* REQ_K_* */
	__u8 proto;
	__u8 method;
	__u8 status;
	__u64 cmd;		/* Redis: the command's name (req_key.cmd) */
};

/* The first @n (<= 8) bytes at @p as one little-endian word; for a literal, a constant. */
static __always_inline __u64 req_word(const char *p, __u32 n)
{
	__u64 w = 0;

	__builtin_memcpy(&w, p, n);
	return w;
}

/* Whether @w (8 bytes of the buffer) starts with the @n bytes of literal @p. */
static __always_inline bool req_is(__u64 w, const char *p, __u32 n)
{
	__u64 mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;

	return (w & mask) == req_word(p, n);
}

static __always_inline bool req_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/* An HTTP/1.x request line's method, 0 if @w does not start with one and a space. */
static __always_inline __u8 req_http_method(__u64 w)
{
	if (req_is(w, "GET ", 4))
		return REQ_M_GET;
	if (req_is(w, "POST ", 5))
		return REQ_M_POST;
	if (req_is(w, "PUT ", 4))
		return REQ_M_PUT;
	if (req_is(w, "HEAD ", 5))
		return REQ_M_HEAD;
	if (req_is(w, "DELETE ", 7))
		return REQ_M_DELETE;
	if (req_is(w, "PATCH ", 6))
		return REQ_M_PATCH;
	if (req_is(w, "OPTIONS ", 8))
		return REQ_M_OPTIONS;
	if (req_is(w, "CONNECT ", 8))
		return REQ_M_CONNECT;
	if (req_is(w, "TRACE ", 6))
		return REQ_M_TRACE;
	return 0;
}

/*
 * A RESP request's command name, "*2\r\n$3\r\nGET\r\n...", from the bytes after the
 * '*': the array's count, its first bulk string's length, then up to 8 letters of the
 * name, upper-cased, as in req_key.cmd; 0 when the bytes are not laid out so or the name
 * has a byte that is not a letter. One pass over the constant offsets, a state
 * machine (the verifier sees each byte at a fixed place).
 */
static __always_inline __u64 req_resp_cmd(const __u8 *b)
{
	__u32 state = 0, k = 0;	/* 0: count's digits, 1: '\n', 2: '$', 3: length's digits,
				 * 4: '\n', 5: the name */
	__u64 cmd = 0;

#pragma unroll
	for (int i = 1; i < REQ_PEEK; i++) {
		__u8 c = b[i];

		if (state == 0 || state == 3) {
			if (c == '\r')
				state++;
			else if (!req_digit(c))
				return 0;
		} else if (state == 1 || state == 4) {
			if (c != '\n')
				return 0;
			state++;
		} else if (state == 2) {
			if (c != '$')
				return 0;
			state++;
		} else {
			if (c == '\r' || !c || k == 8)
				break;
			if (c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
			else if (c < 'A' || c > 'Z')
				return 0;
			cmd = cmd << 8 | c;
			k++;
		}
	}
	return state == 5 ? cmd : 0;
}

static __always_inline void req_http(const __u8 *b, __u32 n, struct req_peek *p)
{
	__u64 w = *(const __u64 *)b;

	p->proto = REQ_P_HTTP;
	p->method = req_http_method(w);
	if (p->method) {
		p->kind = REQ_K_REQ;
		return;
	}
	/* "HTTP/1.1 200": the status's three digits at 9..11 */
	if (n >= 12 && req_is(w, "HTTP/1.", 7) && b[8] == ' ' && req_digit(b[9]) &&
	    req_digit(b[10]) && req_digit(b[11])) {
		p->kind = REQ_K_RESP;
		p->status = b[9] - '0';
	}
}

static __always_inline void req_redis(const __u8 *b, __u32 n, struct req_peek *p)
{
	p->proto = REQ_P_REDIS;
	p->method = REQ_M_NONE;
	p->status = REQ_S_OK;
	switch (b[0]) {
	case '*':	/* "*2\r\n$3\r\nGET...": an array, what clients send */
		if (n >= 4 && req_digit(b[1])) {
			p->kind = REQ_K_EITHER;
			p->cmd = req_resp_cmd(b);
		}
		return;
	case '-':	/* "-ERR unknown command", RESP3 "!21\r\n..." */
	case '!':
		p->status = REQ_S_ERR;
		p->kind = REQ_K_RESP;
		return;
	case '+':
	case ':':
	case '$':
	case '_':
	case ',':
	case '#':
	case '=':
	case '(':
	case '%':
	case '~':
		/* a reply ends its first line with \r\n: "+OK\r\n", "$-1\r\n" */
		if (n >= 3)
			p->kind = REQ_K_RESP;
		return;
	}
}

static __always_inline __u32 req_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/*
 * PostgreSQL: a connection is known from its startup message (length, then protocol 3.0,
 * or the SSL or GSS encryption request's code); after it, a message is a type byte and a
 * length of 4 or more. Frontend types that ask for an answer are requests; the backend's
 * are responses, ErrorResponse ('E', also the frontend's Execute) an error.
 */
static __always_inline void req_pg(const __u8 *b, __u32 n, bool fresh, struct req_peek *p)
{
	__u32 code;

	p->proto = REQ_P_PG;
	p->status = REQ_S_OK;
	if (fresh) {
		if (n < 8 || req_be32(b) < 8 || req_be32(b) > 10000)
			return;
		code = req_be32(b + 4);
		if (code == 0x30000 || code == 80877103 || code == 80877104)
			p->kind = REQ_K_HELLO;
		return;
	}
	if (n < 5 || req_be32(b + 1) < 4)
		return;
	switch (b[0]) {
	case 'Q':
		p->method = REQ_M_QUERY;
		p->kind = REQ_K_REQ;
		return;
	case 'P':
		p->method = REQ_M_PARSE;
		p->kind = REQ_K_REQ;
		return;
	case 'B':
		p->method = REQ_M_BIND;
		p->kind = REQ_K_REQ;
		return;
	case 'F':
		p->method = REQ_M_FCALL;
		p->kind = REQ_K_REQ;
		return;
	case 'E':
		p->method = REQ_M_EXECUTE;
		p->status = REQ_S_ERR;
		p->kind = REQ_K_EITHER;
		return;
	case 'T':	/* RowDescription */
	case 'D':	/* DataRow */
	case 'C':	/* CommandComplete */
	case 'I':	/* EmptyQueryResponse */
	case 'N':	/* NoticeResponse */
	case 'Z':	/* ReadyForQuery */
	case '1':	/* ParseComplete */
	case '2':	/* BindComplete */
	case '3':	/* CloseComplete */
	case 'n':	/* NoData */
	case 's':	/* PortalSuspended */
	case 't':	/* ParameterDescription */
	case 'S':	/* ParameterStatus */
	case 'A':	/* NotificationResponse */
	case 'V':	/* FunctionCallResponse */
	case 'G':	/* CopyInResponse */
	case 'H':	/* CopyOutResponse */
	case 'W':	/* CopyBothResponse */
		p->kind = REQ_K_RESP;
		return;
	}
}

/*
 * Classify @b (@n bytes, the rest zeros) as one of the protocols of mask @want: on a
 * connection not seen before (@fresh), every protocol --proto allows; after, its own.
 */
static __always_inline void req_classify(const __u8 *b, __u32 n, __u32 want, bool fresh,
					 struct req_peek *p)
{
	p->kind = REQ_K_NONE;
	if (want & (1 << REQ_P_HTTP)) {
		req_http(b, n, p);
		if (p->kind != REQ_K_NONE)
			return;
	}
	if (want & (1 << REQ_P_REDIS)) {
		req_redis(b, n, p);
		if (p->kind != REQ_K_NONE)
			return;
	}
	if (want & (1 << REQ_P_PG))
		req_pg(b, n, fresh, p);
}

#endif
