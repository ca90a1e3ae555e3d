/* base64: RFC 4648 section 10 vectors both ways, every rejection the header
 * lists, exact-capacity output against a guard page, round trips. */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "check.h"

static const struct {
	const char *plain;
	const char *coded;
} vectors[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

/* Inputs base64_decode must refuse however large the output buffer. */
static const char *const rejects[] = {
	/* length not a multiple of 4 */
	"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg=", "Zm9vYmFy=",
	/* characters outside the alphabet */
	"Zm9!", "Zm 9", " Zm9", "Zm9\n", "Zm-_", "Zm9v\r\nZg", "Zm9vYmF\x80",
	"Zm\xc3\xa9", "Zm.v", "Zm9v*mFy",
	/* padding misplaced or in excess */
	"=", "====", "Z===", "=Zm9", "Z=9v", "Zm=v", "Zg=a", "Zg==Zm9v",
	"Zm8=Zm9v", "Zm9vZg==Zg==", "Zm9v====",
	/* non-zero pad bits (RFC 4648 3.5) */
	"Zh==", "Zm9=", "Zm/=", "ZmB=", "Z/==",
};

/* Decodes through guarded copies of the input and of a cap-byte output. */
static long decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	static const uint8_t junk[256];
	char *g = check_guarded(in, n);
	uint8_t *o = check_guarded(junk, cap);
	long r = base64_decode(g, n, o, cap);
	if (r > 0)
		memcpy(out, o, (size_t)r);
	check_unguard(g, n);
	check_unguard(o, cap);
	return r;
}

/* Encodes into a guarded buffer of exactly BASE64_ENCODED_LEN(n) chars. */
static size_t encode(const void *in, size_t n, char *out)
{
	size_t cap = BASE64_ENCODED_LEN(n);
	static const char junk[512];
	void *g = check_guarded(in, n);
	char *o = check_guarded(junk, cap);
	size_t r = base64_encode(g, n, o);
	memcpy(out, o, r);
	check_unguard(g, n);
	check_unguard(o, cap);
	return r;
}

static void check_vectors(void)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const char *p = vectors[i].plain, *c = vectors[i].coded;
		size_t pn = strlen(p), cn = strlen(c);
		char enc[16];
		uint8_t dec[16];

		CHECK_INT(BASE64_ENCODED_LEN(pn), cn);
		size_t n = encode(p, pn, enc);
		CHECK_MEM(enc, n, c, cn);
		CHECK_INT(decode(c, cn, dec, pn), pn);
		CHECK_MEM(dec, pn, p, pn);
		CHECK_INT(decode(c, cn, dec, sizeof dec), pn);
		CHECK_MEM(dec, pn, p, pn);
		/* One byte short of room is refused, not truncated. */
		if (pn > 0)
			CHECK_INT(decode(c, cn, dec, pn - 1), -1);
	}
}

static void check_rejects(void)
{
	uint8_t dec[64];

	for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
		const char *c = rejects[i];
		long r = decode(c, strlen(c), dec, sizeof dec);
		if (!CHECK(r == -1))
			fprintf(stderr, "    accepted \"%s\"\n", c);
	}
	/* An embedded NUL is outside the alphabet too. */
	CHECK_INT(decode("Zm\0v", 4, dec, sizeof dec), -1);
	CHECK_INT(decode("", 0, dec, 0), 0);
}

/* Every byte value in every position of a final quantum: exactly the 64
 * alphabet characters are accepted unpadded; with padding only the values
 * whose left-over bits are zero (4 of 64 before "==", 16 before "="). */
static void check_alphabet(void)
{
	int plain = 0, pad1 = 0, pad2 = 0;
	uint8_t dec[3];

	for (int ch = 0; ch < 256; ch++) {
		char q[4] = {'Q', 'U', 'J', 'D'}; /* "ABC" */
		q[3] = (char)ch;
		long r = decode(q, 4, dec, sizeof dec);
		if (r == 3) {
			plain++;
			char back[4];
			encode(dec, 3, back);
			CHECK_MEM(back, 4, q, 4);
		} else {
			CHECK_INT(r, -1);
		}

		char p1[4] = {'Q', 'U', (char)ch, '='};
		r = decode(p1, 4, dec, sizeof dec);
		pad1 += r == 2;
		CHECK(r == 2 || r == -1);

		char p2[4] = {'Q', (char)ch, '=', '='};
		r = decode(p2, 4, dec, sizeof dec);
		pad2 += r == 1;
		CHECK(r == 1 || r == -1);
	}
	CHECK_INT(plain, 64);
	CHECK_INT(pad1, 16);
	CHECK_INT(pad2, 4);
}

/* Every length up to 3 * 64 + 2 of every byte value survives the round
 * trip, and decoding the result needs exactly the original length. */
static void check_round_trip(void)
{
	uint8_t p[194], dec[194];
	char enc[BASE64_ENCODED_LEN(sizeof p)];

	for (size_t i = 0; i < sizeof p; i++)
		p[i] = (uint8_t)(255 - i * 37);
	for (size_t n = 0; n <= sizeof p; n++) {
		size_t m = encode(p, n, enc);
		CHECK_INT(m, BASE64_ENCODED_LEN(n));
		CHECK_INT(decode(enc, m, dec, n), n);
		CHECK_MEM(dec, n, p, n);
	}
	uint8_t all[256], back[256];
	char coded[BASE64_ENCODED_LEN(256)];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	size_t m = encode(all, sizeof all, coded);
	CHECK_INT(decode(coded, m, back, sizeof back), sizeof all);
	CHECK_MEM(back, sizeof back, all, sizeof all);
}

int main(void)
{
	check_vectors();
	check_rejects();
	check_alphabet();
	check_round_trip();

	/* RFC 6455 1.3: the SHA-1 of key + GUID (checked in test_sha1)
	 * encodes to the Sec-WebSocket-Accept of the example. */
	static const uint8_t digest[20] = {
		0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
		0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea};
	char accept[BASE64_ENCODED_LEN(20)];
	size_t n = encode(digest, sizeof digest, accept);
	CHECK_MEM(accept, n, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28);
	/* The example's key decodes to a 16-byte nonce. */
	uint8_t nonce[16];
	CHECK_INT(decode("dGhlIHNhbXBsZSBub25jZQ==", 24, nonce, sizeof nonce),
		  16);
	CHECK_MEM(nonce, 16, "the sample nonce", 16);

	return check_report("base64");
}
