/* SPDX-License-Identifier: MIT */
/*
 * Keypair slot rotation, table-driven: each step installs a keypair as
 * initiator or responder, confirms one, or clears, and the expected slots and
 * retired set follow the kernel's add_new_keypair / received_with_keypair.
 * Keypairs are named by letters; '-' is an empty slot.
 */
#include <string.h>

#include "control/keypairs.h"
#include "tests/harness.h"

enum op { ADD_INIT, ADD_RESP, CONFIRM, CLEAR };

struct step {
	enum op op;
	char kp;            /* keypair added or confirmed */
	const char *slots;  /* expected "current previous next" as 3 chars */
	const char *retired; /* expected retired keypairs, in any order */
	bool rotated;       /* CONFIRM: expected result */
};

static struct wg_keypair pool[26];

static struct wg_keypair *kp_of(char c)
{
	return c == '-' ? NULL : &pool[c - 'a'];
}

static char name_of(const struct wg_keypair *kp)
{
	return kp ? (char)('a' + (kp - pool)) : '-';
}

static void run(const struct step *steps, size_t n)
{
	struct wg_keypairs k = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX] = { 0 };
		unsigned nr = 0;
		char got_slots[4], got_retired[4] = "";

		switch (s->op) {
		case ADD_INIT:
		case ADD_RESP:
			kp_of(s->kp)->is_initiator = s->op == ADD_INIT;
			nr = wg_keypairs_add(&k, kp_of(s->kp), retired);
			break;
		case CONFIRM: {
			struct wg_keypair *r;
			bool rot = wg_keypairs_confirm(&k, kp_of(s->kp), &r);
			CHECK_MSG(rot == s->rotated, "step %zu: rotated %d", i, rot);
			if (r)
				retired[nr++] = r;
			break;
		}
		case CLEAR:
			nr = wg_keypairs_clear(&k, retired);
			break;
		}
		got_slots[0] = name_of(k.current);
		got_slots[1] = name_of(k.previous);
		got_slots[2] = name_of(k.next);
		got_slots[3] = '\0';
		CHECK_MSG(strcmp(got_slots, s->slots) == 0, "step %zu: slots %s, expected %s", i, got_slots,
			  s->slots);
		CHECK_MSG(nr == strlen(s->retired), "step %zu: %u retired, expected %zu", i, nr,
			  strlen(s->retired));
		for (unsigned j = 0; j < nr && j < 3; j++) {
			got_retired[j] = name_of(retired[j]);
			got_retired[j + 1] = '\0';
			CHECK_MSG(strchr(s->retired, got_retired[j]) != NULL, "step %zu: retired %c unexpectedly",
				  i, got_retired[j]);
		}
		/* the reader view agrees with the slots */
		CHECK(wg_keypairs_current(&k) == k.current && wg_keypairs_next(&k) == k.next);
	}
}

static void test_initiator_sessions(void)
{
	static const struct step steps[] = {
		{ ADD_INIT, 'a', "a--", "" },
		{ ADD_INIT, 'b', "ba-", "" },  /* a stays as previous for in-flight packets */
		{ ADD_INIT, 'c', "cb-", "a" }, /* the old previous retires */
		{ ADD_INIT, 'd', "dc-", "b" },
		{ CLEAR, 0, "---", "dc" },
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_responder_confirmation(void)
{
	static const struct step steps[] = {
		{ ADD_RESP, 'a', "--a", "" },
		{ CONFIRM, 'b', "--a", "", false },  /* data on an unknown keypair: nothing */
		{ CONFIRM, 'a', "a--", "", true },   /* first data on next: confirmed */
		{ CONFIRM, 'a', "a--", "", false },  /* already current */
		{ ADD_RESP, 'b', "a-b", "" },        /* a keeps sending until b is confirmed */
		{ CONFIRM, 'b', "ba-", "", true },
		{ ADD_RESP, 'c', "b-c", "a" },       /* a responder handshake drops the previous */
		{ ADD_RESP, 'd', "b-d", "c" },       /* an unconfirmed next is replaced */
		{ CONFIRM, 'c', "b-d", "", false },  /* c is gone */
		{ CONFIRM, 'd', "db-", "", true },
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_mixed_roles(void)
{
	static const struct step steps[] = {
		{ ADD_RESP, 'a', "--a", "" },
		{ ADD_INIT, 'b', "ba-", "" },        /* pending next demoted to previous */
		{ ADD_RESP, 'c', "b-c", "a" },
		{ ADD_INIT, 'd', "dc-", "b" },       /* next c kept as previous, current b retires */
		{ CONFIRM, 'c', "dc-", "", false },  /* c is previous now, not next */
		{ ADD_INIT, 'e', "ed-", "c" },
		{ CLEAR, 0, "---", "ed" },
		{ CLEAR, 0, "---", "" },
	};
	run(steps, sizeof(steps) / sizeof(steps[0]));
}

int main(void)
{
	TEST_BEGIN("control/keypairs_test");
	RUN_TEST(test_initiator_sessions);
	RUN_TEST(test_responder_confirmation);
	RUN_TEST(test_mixed_roles);
	return TEST_END();
}
