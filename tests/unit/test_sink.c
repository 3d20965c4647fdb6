// SPDX-License-Identifier: GPL-2.0
/* sink/: backends, -o specs, the pipeline's kinds, the file writer's failures. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "core/opts.h"
#include "sink/pipe.h"
#include "sink/sink.h"
#include "sink/writer.h"

static void test_backends(void **state)
{
	struct ks_clock c;
	struct ks_sink *t, *j;
	struct ks_rec r;
	char *got;
	int fd = tu_memfd();

	ks_clock_init(&c);
	t = ks_sink__new(&ks_table_ops, fd, 0, false, false, &c);
	j = ks_sink__new(&ks_json_ops, fd, 0, false, false, &c);
	assert_non_null(t);
	assert_non_null(j);
	assert_ptr_equal(t->ops, &ks_table_ops);
	assert_ptr_equal(j->ops, &ks_json_ops);
	assert_ptr_equal(t->clock, &c);

	ks_rec_init(&r, "x", NULL);
	ks_rec_uint(&r, "n", "N", 0, 7);
	ks_sink__emit(t, &r);
	ks_sink__emit(j, &r);
	/* nothing is written before a flush (or the free) */
	got = tu_take(fd);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(ks_sink__flush(j), 0);
	ks_sink__free(t);	/* flushes what is left */
	got = tu_take(fd);
	assert_string_equal(got, "{\"type\":\"x\",\"ts\":\"1970-01-01T00:00:00.000000000Z\","
				 "\"n\":7}\nN\n7\n");
	free(got);
	ks_sink__free(j);
	ks_sink__free(NULL);
	close(fd);
}

static void test_reader_gone(void **state)
{
	struct ks_clock c;
	struct ks_sink *s;
	struct ks_rec r;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	ks_clock_init(&c);
	s = ks_sink__new(&ks_json_ops, p[1], 0, false, false, &c);
	close(p[0]);
	ks_rec_init(&r, "x", NULL);
	ks_sink__emit(s, &r);
	assert_int_equal(ks_sink__flush(s), -EPIPE);
	ks_sink__emit(s, &r);
	assert_int_equal(ks_sink__flush(s), -EPIPE);
	ks_sink__free(s);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_errno_name(void **state)
{
	char tmp[16];

	assert_string_equal(ks_errno_name(ENOENT, tmp, sizeof(tmp)), "ENOENT");
	assert_string_equal(ks_errno_name(EACCES, tmp, sizeof(tmp)), "EACCES");
	assert_string_equal(ks_errno_name(EHWPOISON, tmp, sizeof(tmp)), "EHWPOISON");
	/* unknown, zero and negative values come back as numbers */
	assert_string_equal(ks_errno_name(4095, tmp, sizeof(tmp)), "4095");
	assert_ptr_equal(ks_errno_name(4095, tmp, sizeof(tmp)), tmp);
	assert_string_equal(ks_errno_name(0, tmp, sizeof(tmp)), "0");
	assert_string_equal(ks_errno_name(-2, tmp, sizeof(tmp)), "-2");
	assert_string_equal(ks_errno_name(-2147483647 - 1, tmp, 8), "-214748");
}

static void test_spec(void **state)
{
	struct ks_sink_spec sp;
	char err[KS_ERR_LEN];

	assert_int_equal(ks_sink_spec_parse("table", &sp, err, sizeof(err)), 0);
	assert_ptr_equal(sp.ops, &ks_table_ops);
	assert_int_equal(sp.kinds, 0);
	assert_null(sp.path);
	/* the path is everything after the first colon, colons and commas included */
	assert_int_equal(ks_sink_spec_parse("json:/var/log/a,b:c", &sp, err, sizeof(err)), 0);
	assert_ptr_equal(sp.ops, &ks_json_ops);
	assert_string_equal(sp.path, "/var/log/a,b:c");
	assert_int_equal(ks_sink_spec_parse("json,event,stats:/x", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kinds, KS_KIND(KS_K_EVENT) | KS_KIND(KS_K_STATS));
	assert_string_equal(sp.path, "/x");
	assert_int_equal(ks_sink_spec_parse("json,meta", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kinds, KS_KIND(KS_K_META));
	assert_int_equal(ks_sink_spec_parse("", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "unknown format ''");
	assert_int_equal(ks_sink_spec_parse("json,summary,,x", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "unknown record kind ''");
	assert_string_equal(ks_rec_kind_name(KS_K_SUMMARY), "summary");
	assert_null(ks_rec_kind_name(KS_K_N));
}

/* Each stage gets only the kinds it takes; the pipeline knows if anyone takes events. */
static void test_pipe_kinds(void **state)
{
	struct ks_clock c;
	struct ks_pipe p = { 0 };
	struct ks_rec ev, rep, sum;
	struct ks_hdr h = { .pid = 1, .comm = "x" };
	int fj = tu_memfd(), ft = tu_memfd();
	char *got;

	ks_clock_init(&c);
	assert_int_equal(ks_pipe__add(&p, ks_sink__new(&ks_json_ops, fj, KS_KIND(KS_K_SUMMARY),
						       true, false, &c)), 0);
	assert_false(ks_pipe__wants(&p, KS_K_EVENT));
	assert_int_equal(ks_pipe__add(&p, ks_sink__new(&ks_table_ops, ft, 0, false, false, &c)),
			 0);
	assert_true(ks_pipe__wants(&p, KS_K_EVENT));
	assert_true(p.needs_service);	/* JSON shows services; the table does not */
	ks_rec_init(&ev, "ev", &h);
	ks_rec_uint(&ev, "n", "N", 0, 1);
	ks_rec_init(&rep, "rep", NULL);
	ks_rec_uint(&rep, "n", "N", 0, 2);
	ks_rec_summary(&sum, "m");
	ks_rec_uint(&sum, "n", "n", 0, 3);
	ks_pipe__emit(&p, &ev);
	ks_pipe__emit(&p, &rep);
	ks_pipe__emit(&p, &sum);
	assert_int_equal(ks_pipe__flush(&p, "t", NULL), 0);
	got = tu_take(fj);
	assert_non_null(strstr(got, "\"type\":\"summary\""));
	assert_null(strstr(got, "\"ev\""));
	assert_int_equal(tu_json_lines(got), 1);
	free(got);
	got = tu_take(ft);
	assert_string_equal(got, "N\n1\nN\n2\n");	/* a tool's table: events, reports */
	free(got);
	assert_int_equal(p.s[0]->records, 1);
	assert_int_equal(p.s[1]->records, 2);
	assert_int_equal(ks_pipe__close(&p, "t", NULL), 0);
	ks_pipe__free(&p);
	close(fj);
	close(ft);
}

/* A file that fails: every record counted, said once, and the close reports it. */
static void test_file_fails(void **state)
{
	struct ks_sink_spec sp;
	struct ks_pipe p = { 0 };
	struct ks_clock c;
	struct ks_rec r;
	char err[KS_ERR_LEN], *said = NULL;
	size_t said_len = 0;
	FILE *f = open_memstream(&said, &said_len);

	ks_clock_init(&c);
	assert_int_equal(ks_sink_spec_parse("json:/dev/full", &sp, err, sizeof(err)), 0);
	assert_int_equal(ks_pipe__add(&p, ks_sink__open(&sp, "json:/dev/full", false, false, &c)),
			 0);
	ks_rec_init(&r, "x", NULL);
	for (int i = 0; i < 3; i++)
		ks_pipe__emit(&p, &r);
	assert_int_equal(ks_pipe__flush(&p, "t", f), 0);	/* a file never stops the session */
	ks_pipe__drain(&p, 2000);
	assert_int_equal(ks_sink_dropped(p.s[0]), 3);
	assert_int_equal(ks_sink_error(p.s[0]), ENOSPC);
	ks_pipe__emit(&p, &r);
	ks_pipe__flush(&p, "t", f);
	assert_int_equal(ks_pipe__close(&p, "t", f), -EIO);
	fclose(f);
	assert_string_equal(said, "ksight t: json:/dev/full: No space left on device; its records "
				  "are dropped and counted\n"
				  "ksight t: json:/dev/full: 4 of 4 records dropped: No space left on "
				  "device\n");
	free(said);
	ks_pipe__free(&p);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A reader that never reads: the writer holds at most max, refuses the rest (counted), and
 * its end does not hang on the full pipe. */
static void test_writer_slow(void **state)
{
	struct ks_buf b;
	struct ks_writer *w;
	int fds[2], refused = 0;
	uint64_t lost;
	double t0;

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	w = ks_writer__new(fds[1], 256 << 10);
	assert_non_null(w);
	assert_int_equal(ks_buf_init(&b, -1, 1 << 16), 0);
	for (int i = 0; i < 64; i++) {
		memset(b.p, 'x', 1 << 16);
		b.len = 1 << 16;
		if (ks_writer__push(w, &b, 10) == -ENOBUFS)
			refused++;
		assert_int_equal(b.len, 0);
	}
	assert_true(refused > 0);
	assert_int_equal(ks_writer__drain(w, 100), -ETIMEDOUT);
	assert_int_equal(ks_writer__lost(w), refused * 10);
	t0 = now_s();
	lost = ks_writer__free(w, 200);
	assert_true(now_s() - t0 < 2.0);
	/* what waited in the writer, never (or only partly) written, is counted too */
	assert_true(lost > (uint64_t)refused * 10);
	assert_true(lost <= 64 * 10);
	ks_buf_free(&b);
	close(fds[0]);
}

/* A file that keeps up: everything written, in order, nothing lost. */
static void test_writer_file(void **state)
{
	char *dir = tu_mkdtemp("ksight-w"), path[300], got[64] = "";
	struct ks_buf b;
	struct ks_writer *w;
	int fd;

	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	w = ks_writer__new(fd, 1 << 20);
	assert_int_equal(ks_buf_init(&b, -1, 64), 0);
	for (int i = 0; i < 5; i++) {
		ks_buf_printf(&b, "line %d\n", i);
		assert_int_equal(ks_writer__push(w, &b, 1), 0);
	}
	assert_int_equal(ks_writer__drain(w, 2000), 0);
	assert_int_equal(ks_writer__written(w), 35);
	assert_int_equal(ks_writer__free(w, 2000), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, got, sizeof(got) - 1), 35);
	close(fd);
	assert_string_equal(got, "line 0\nline 1\nline 2\nline 3\nline 4\n");
	ks_buf_free(&b);
	unlink(path);
	tu_rmtree(dir);
}

/* rotate= and keep= in -o specs. */
static void test_spec_rotate(void **state)
{
	struct ks_sink_spec sp;
	char err[KS_ERR_LEN];

	assert_int_equal(ks_sink_spec_parse("json,event,rotate=100M,keep=3:/x", &sp, err,
					    sizeof(err)), 0);
	assert_int_equal(sp.rotate, 100ULL << 20);
	assert_int_equal(sp.keep, 3);
	assert_int_equal(sp.kinds, KS_KIND(KS_K_EVENT));
	assert_string_equal(sp.path, "/x");
	assert_int_equal(ks_sink_spec_parse("json,rotate=65536:/x", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.rotate, 65536);
	assert_int_equal(sp.keep, 5);
	assert_int_equal(ks_sink_spec_parse("json,rotate=1G:/x", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.rotate, 1ULL << 30);
	assert_int_equal(ks_sink_spec_parse("json,rotate=4095:/x", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "rotate=4095: not a size");
	assert_int_equal(ks_sink_spec_parse("json,rotate=10X:/x", &sp, err, sizeof(err)), -1);
	assert_int_equal(ks_sink_spec_parse("json,rotate=:/x", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "unknown record kind 'rotate='");
	assert_int_equal(ks_sink_spec_parse("json,rotate=99999999999999999999G:/x", &sp, err,
					    sizeof(err)), -1);
	assert_int_equal(ks_sink_spec_parse("json,rotate=1M,keep=1001:/x", &sp, err,
					    sizeof(err)), -1);
	tu_one_line(err, "keep=1001: not a number of files");
	assert_int_equal(ks_sink_spec_parse("json,keep=2:/x", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "keep= without rotate=SIZE");
	assert_int_equal(ks_sink_spec_parse("json,rotate=1M", &sp, err, sizeof(err)), -1);
	tu_one_line(err, "are for a file");
	assert_int_equal(ks_sink_spec_parse("prometheus,rotate=1M:127.0.0.1:9", &sp, err,
					    sizeof(err)), -1);
	tu_one_line(err, "are for a file");
}

static void file_is(const char *dir, const char *name, const char *want)
{
	char path[300], got[128] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (!want) {
		assert_true(fd < 0);
		return;
	}
	assert_true(fd >= 0);
	assert_true(read(fd, got, sizeof(got) - 1) >= 0);
	close(fd);
	assert_string_equal(got, want);
	unlink(path);
}

/* Rotation at line ends: two 7-byte lines fit 20 bytes, a third goes to a new file; a line
 * longer than the size has a file of its own; keep=2 keeps out.1 and out.2 only. */
static void test_writer_rotate(void **state)
{
	char *dir = tu_mkdtemp("ksight-r"), path[300];
	struct ks_buf b;
	struct ks_writer *w;
	int fd;

	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old 01\n", 7), 7);	/* the size counts what is there */
	w = ks_writer__new(fd, 1 << 20);
	assert_int_equal(ks_writer__rotate(w, path, 20, 2), 0);
	assert_int_equal(ks_buf_init(&b, -1, 64), 0);
	for (int i = 0; i < 5; i++)
		ks_buf_printf(&b, "line %d\n", i);
	assert_int_equal(ks_writer__push(w, &b, 5), 0);
	ks_buf_printf(&b, "a line longer than twenty\nline 5\n");
	assert_int_equal(ks_writer__push(w, &b, 2), 0);
	assert_int_equal(ks_writer__drain(w, 2000), 0);
	assert_int_equal(ks_writer__free(w, 2000), 0);
	file_is(dir, "out", "line 5\n");
	file_is(dir, "out.1", "a line longer than twenty\n");
	file_is(dir, "out.2", "line 3\nline 4\n");
	file_is(dir, "out.3", NULL);	/* old 01, line 0..2: dropped past keep=2 */
	ks_buf_free(&b);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_errno_name),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_pipe_kinds),
		cmocka_unit_test(test_file_fails),
		cmocka_unit_test(test_writer_slow),
		cmocka_unit_test(test_writer_file),
		cmocka_unit_test(test_spec_rotate),
		cmocka_unit_test(test_writer_rotate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
