// SPDX-License-Identifier: GPL-2.0
/*
 * pamlogin: a PAM application for guard's login tests.
 *   pamlogin [-c CONFDIR] [-r RHOST] [-u RUSER] [-a ANSWER] [-f] [-w] SERVICE USER N
 *     N times: pam_start(SERVICE, USER) (USER "-": NULL; with -c pam_start_confdir, the
 *     stacks read from CONFDIR), pam_set_item(PAM_RHOST) with -r, pam_set_item(PAM_RUSER)
 *     with -u (the requesting user, as su sets it), pam_authenticate and,
 *     when it succeeded, pam_open_session and pam_close_session, then pam_end. -a: the
 *     name the conversation answers when a module asks for the user (pam_get_user); else
 *     no module may converse. -f: authenticate and open the session in a child forked
 *     after pam_start (as sshd does), pam_end in the parent. -w: after the first
 *     pam_start and pam_set_item, print "ready PID" and wait for a line on stdin (a handle
 *     made before the tracer started).
 *     Prints per attempt "auth RC USER RHOST SERVICE" (with -u, " RUSER" after them) and
 *     "session RC" (libpam's codes; the names are libpam's PAM_USER, PAM_RHOST,
 *     PAM_SERVICE, PAM_RUSER after the call, in hex, "-" for NULL): the reference for
 *     what guard reports.
 * Without -c, run it where /etc/pam.d is a test directory (a private mount namespace): the
 * stack the service names decides (pam_permit, pam_deny), no password is asked.
 */
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *answer, *ruser;

/* Answers a prompt for the user name with -a's, nothing else. */
static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *d)
{
	(void)d;
	*resp = NULL;
	if (!answer || n != 1 || msg[0]->msg_style != PAM_PROMPT_ECHO_ON)
		return PAM_CONV_ERR;
	*resp = calloc(1, sizeof(**resp));
	if (!*resp)
		return PAM_BUF_ERR;
	(*resp)->resp = strdup(answer);
	return PAM_SUCCESS;
}

static void hex_item(pam_handle_t *h, int item)
{
	const void *v = NULL;

	if (pam_get_item(h, item, &v) != PAM_SUCCESS || !v) {
		printf(" -");
		return;
	}
	putchar(' ');
	for (const unsigned char *s = v; *s; s++)
		printf("%02x", *s);
}

/* One pam_authenticate and, if it succeeded, a session. Returns the last code. */
static int login(pam_handle_t *h)
{
	int rc = pam_authenticate(h, 0);

	printf("auth %d", rc);
	hex_item(h, PAM_USER);
	hex_item(h, PAM_RHOST);
	hex_item(h, PAM_SERVICE);
	if (ruser)
		hex_item(h, PAM_RUSER);
	putchar('\n');
	if (rc == PAM_SUCCESS) {
		rc = pam_open_session(h, 0);
		printf("session %d\n", rc);
		if (rc == PAM_SUCCESS)
			pam_close_session(h, 0);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct pam_conv c = { conv, NULL };
	const char *confdir = NULL, *rhost = NULL;
	bool fork_it = false, wait_go = false;
	int opt;

	setvbuf(stdout, NULL, _IONBF, 0);
	while ((opt = getopt(argc, argv, "c:r:u:a:fw")) != -1) {
		if (opt == 'c')
			confdir = optarg;
		else if (opt == 'r')
			rhost = optarg;
		else if (opt == 'u')
			ruser = optarg;
		else if (opt == 'a')
			answer = optarg;
		else if (opt == 'f')
			fork_it = true;
		else if (opt == 'w')
			wait_go = true;
		else
			return 2;
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: pamlogin [-c CONFDIR] [-r RHOST] [-u RUSER] [-a ANSWER] "
			"[-f] [-w] SERVICE USER N\n");
		return 2;
	}
	const char *service = argv[optind], *user = argv[optind + 1];

	if (!strcmp(user, "-"))
		user = NULL;
	for (int i = 0; i < atoi(argv[optind + 2]); i++) {
		pam_handle_t *h = NULL;
		int rc = confdir ? pam_start_confdir(service, user, &c, confdir, &h) :
				   pam_start(service, user, &c, &h);

		if (rc != PAM_SUCCESS) {
			printf("start %d\n", rc);
			return 1;
		}
		if (rhost && (rc = pam_set_item(h, PAM_RHOST, rhost)) != PAM_SUCCESS) {
			printf("rhost %d\n", rc);
			return 1;
		}
		if (ruser && (rc = pam_set_item(h, PAM_RUSER, ruser)) != PAM_SUCCESS) {
			printf("ruser %d\n", rc);
			return 1;
		}
		if (wait_go && !i) {
			char line[16];

			printf("ready %d\n", (int)getpid());
			if (!fgets(line, sizeof(line), stdin))
				return 1;
		}
		if (fork_it) {
			pid_t pid = fork();
			int st;

			if (pid < 0)
				return 1;
			if (!pid)
				_exit(login(h) == PAM_SUCCESS ? 0 : 3);
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
				return 1;
			rc = WEXITSTATUS(st) ? PAM_AUTH_ERR : PAM_SUCCESS;
		} else {
			rc = login(h);
		}
		pam_end(h, rc);
	}
	return 0;
}
