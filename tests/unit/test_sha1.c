/* sha1: FIPS 180-4 vectors, fed whole, byte by byte and split at every
 * offset; the padding boundaries; the RFC 6455 1.3 handshake digest. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "sha1.h"

static void hex(const uint8_t d[SHA1_LEN], char out[2 * SHA1_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < SHA1_LEN; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * SHA1_LEN] = '\0';
}

/* The digest of p[0..n) fed as the pieces [0, cut) and [cut, n), each
 * placed against a guard page; step > 0 feeds step bytes at a time. */
static void digest(const uint8_t *p, size_t n, size_t cut, size_t step,
		   char out[2 * SHA1_LEN + 1])
{
	struct sha1 s;
	uint8_t d[SHA1_LEN];

	sha1_init(&s);
	if (step > 0) {
		for (size_t i = 0; i < n; i += step) {
			size_t k = n - i < step ? n - i : step;
			uint8_t *g = check_guarded(p + i, k);
			sha1_update(&s, g, k);
			check_unguard(g, k);
		}
	} else {
		uint8_t *a = check_guarded(p, cut);
		uint8_t *b = check_guarded(p + cut, n - cut);
		sha1_update(&s, a, cut);
		sha1_update(&s, b, n - cut);
		check_unguard(a, cut);
		check_unguard(b, n - cut);
	}
	sha1_final(&s, d);
	hex(d, out);
}

static void check_vector(const char *msg, const char *want)
{
	const uint8_t *p = (const uint8_t *)msg;
	size_t n = strlen(msg);
	char got[2 * SHA1_LEN + 1];

	digest(p, n, n, 0, got);
	CHECK(strcmp(got, want) == 0);
	digest(p, n, 0, 1, got);
	CHECK(strcmp(got, want) == 0);
	digest(p, n, 0, 7, got);
	CHECK(strcmp(got, want) == 0);
	for (size_t cut = 0; cut <= n; cut++) {
		digest(p, n, cut, 0, got);
		if (!CHECK(strcmp(got, want) == 0))
			fprintf(stderr, "    \"%s\" split at %zu\n", msg, cut);
	}
}

/* Lengths around the 55/56 and 64-byte edges of the padding (FIPS 180-4
 * 5.1.1); digests from another implementation. */
static const struct {
	size_t n;
	const char *want;
} edges[] = {
	{55, "04bb34aef4880b625e6b1564a014abd25fc02bfe"},
	{56, "83b9fcb6d3e3b20f376ab989a1b6353bcc6c0f44"},
	{57, "2a1102af8a806e1fe19c618ee2b4721b38d5c797"},
	{63, "ab15090e8dbe512f3733350f9623ab11f9b5165b"},
	{64, "54305ee7e4c7bc5a96afc6d1994fc52d9bcb665f"},
	{65, "5985422a25357371ebd2a7f6ecd7eebed43db42c"},
	{119, "6839d6c27f22ed884ac43ae6bd3bfcee9e04b938"},
	{120, "8c40517a14ab8b78fd4b8958f4e31254a34c3fb0"},
	{127, "776f9728c5649329e5db4bb60a25ea903925a112"},
	{128, "22485dc0d1e1d6e9e93e4a2a4667b8e979456379"},
};

static void check_edges(void)
{
	uint8_t p[128];
	char got[2 * SHA1_LEN + 1];

	for (size_t i = 0; i < sizeof p; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
		size_t n = edges[e].n;
		for (size_t cut = 0; cut <= n; cut++) {
			digest(p, n, cut, 0, got);
			CHECK(strcmp(got, edges[e].want) == 0);
		}
		digest(p, n, 0, 1, got);
		CHECK(strcmp(got, edges[e].want) == 0);
	}
}

static void check_million(void)
{
	static uint8_t a[1000000];
	const char *want = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";
	char got[2 * SHA1_LEN + 1];
	struct sha1 s;
	uint8_t d[SHA1_LEN];

	memset(a, 'a', sizeof a);
	digest(a, sizeof a, sizeof a, 0, got);
	CHECK(strcmp(got, want) == 0);
	digest(a, sizeof a, 333333, 0, got);
	CHECK(strcmp(got, want) == 0);
	digest(a, sizeof a, 0, 1000, got);
	CHECK(strcmp(got, want) == 0);

	sha1_init(&s);
	for (size_t i = 0; i < sizeof a; i++)
		sha1_update(&s, "a", 1);
	sha1_final(&s, d);
	hex(d, got);
	CHECK(strcmp(got, want) == 0);
}

int main(void)
{
	check_vector("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_vector("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		     "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_vector("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		     "a49b2446a02c645bf419f995b67091253a04a259");
	/* RFC 6455 1.3: key + GUID; its base64 is checked in test_base64. */
	check_vector("dGhlIHNhbXBsZSBub25jZQ=="
		     "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		     "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
	check_edges();
	check_million();

	/* A zero-length update changes nothing, wherever it comes. */
	struct sha1 s;
	uint8_t d[SHA1_LEN];
	char got[2 * SHA1_LEN + 1];
	sha1_init(&s);
	sha1_update(&s, "", 0);
	sha1_update(&s, "ab", 2);
	sha1_update(&s, "", 0);
	sha1_update(&s, "c", 1);
	sha1_final(&s, d);
	hex(d, got);
	CHECK(strcmp(got, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);

	return check_report("sha1");
}
