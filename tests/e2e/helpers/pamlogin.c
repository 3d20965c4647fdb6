// SPDX-License-Identifier: GPL-2.0
/*
 * pamlogin: a PAM application for guard's login tests.
 *   pamlogin SERVICE USER N   N times: pam_start(SERVICE, USER), pam_authenticate and, when
 *                             it succeeded, pam_open_session and pam_close_session;
 *                             prints "auth RC" and "session RC" per attempt (libpam's codes)
 * Run it where /etc/pam.d is a test directory (a private mount namespace): the stack the
 * service names decides (pam_permit, pam_deny), no password is asked.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>

/* no module of the test stacks converses */
static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *d)
{
	(void)n, (void)msg, (void)d;
	*resp = NULL;
	return PAM_CONV_ERR;
}

int main(int argc, char **argv)
{
	struct pam_conv c = { conv, NULL };

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc != 4) {
		fprintf(stderr, "usage: pamlogin SERVICE USER N\n");
		return 2;
	}
	for (int i = 0; i < atoi(argv[3]); i++) {
		pam_handle_t *h = NULL;
		int rc = pam_start(argv[1], argv[2], &c, &h);

		if (rc != PAM_SUCCESS) {
			printf("start %d\n", rc);
			return 1;
		}
		rc = pam_authenticate(h, 0);
		printf("auth %d\n", rc);
		if (rc == PAM_SUCCESS) {
			rc = pam_open_session(h, 0);
			printf("session %d\n", rc);
			if (rc == PAM_SUCCESS)
				pam_close_session(h, 0);
		}
		pam_end(h, rc);
	}
	return 0;
}
