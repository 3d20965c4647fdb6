// SPDX-License-Identifier: GPL-2.0
/* core/service.c: the service a cgroup path names (systemd unit, container, machine). */
#include "testutil.h"

#include "core/service.h"

#define HEX64 "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"

static void svc(const char *path, enum ks_svc_kind kind, const char *expect)
{
	char out[64];
	enum ks_svc_kind k = ks_service_from_cgroup(path, out, sizeof(out));

	if (!expect) {
		if (k != KS_SVC_NONE)
			fail_msg("%s: '%s', expected none", path, out);
		return;
	}
	if (k == KS_SVC_NONE)
		fail_msg("%s: none, expected '%s'", path, expect);
	assert_int_equal(k, kind);
	assert_string_equal(out, expect);
}

static void unit(const char *path, const char *expect)
{
	svc(path, KS_SVC_UNIT, expect);
}

static void container(const char *path, const char *expect)
{
	svc(path, KS_SVC_CONTAINER, expect);
}

static void test_units(void **state)
{
	unit("/system.slice/nginx.service", "nginx.service");
	unit("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service");
	/* the innermost unit */
	unit("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service", "x.service");
	unit("/user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service");
	/* systemd's escapes are part of the name */
	unit("/system.slice/system-foo\\x2dbar.slice/a\\x2db.service", "a\\x2db.service");
}

static void test_containers(void **state)
{
	/* the runtime and the id shortened to 12 characters, as docker ps shows it */
	container("/docker/" HEX64, "docker:3f4e5d6c7b8a");
	container("/system.slice/docker-" HEX64 ".scope", "docker:3f4e5d6c7b8a");
	container("/machine.slice/libpod-" HEX64 ".scope", "podman:3f4e5d6c7b8a");
	container("/machine.slice/libpod-" HEX64 ".scope/container", "podman:3f4e5d6c7b8a");
	container("/libpod_parent/libpod-" HEX64, "podman:3f4e5d6c7b8a");
	container("/system.slice/cri-containerd-" HEX64 ".scope", "containerd:3f4e5d6c7b8a");
	container("/crio-" HEX64 ".scope", "crio:3f4e5d6c7b8a");
	container("/some/parent/" HEX64, "container:3f4e5d6c7b8a");
	/* any container of a Kubernetes pod, whichever runtime and cgroup driver */
	container("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
		  "cri-containerd-" HEX64 ".scope", "k8s:3f4e5d6c7b8a");
	container("/kubepods/burstable/pod1/crio-" HEX64, "k8s:3f4e5d6c7b8a");
	container("/kubepods/besteffort/pod1/" HEX64, "k8s:3f4e5d6c7b8a");
	/* machines by name */
	container("/machine.slice/machine-debian.scope", "machine:debian");
	container("/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/payload",
		  "machine:qemu\\x2d1\\x2dvm");
	container("/lxc.payload.web/init.scope", "lxc:web");
	/* a container wins over a unit, above it or inside it */
	container("/system.slice/containerd.service/kubepods-pod1.slice/cri-containerd-" HEX64
		  ".scope", "k8s:3f4e5d6c7b8a");
	container("/system.slice/docker-" HEX64 ".scope/system.slice/sshd.service",
		  "docker:3f4e5d6c7b8a");
	container("/docker/" HEX64 "/app.service", "docker:3f4e5d6c7b8a");
}

static void test_neither(void **state)
{
	svc("/", 0, NULL);
	svc("", 0, NULL);
	svc("/user.slice/user-0.slice/session-3.scope", 0, NULL);
	svc("/system.slice", 0, NULL);
	svc("/init.scope", 0, NULL);
	svc("/.service", 0, NULL);
	svc("/machine.slice", 0, NULL);
	svc("/machine-.scope", 0, NULL);
	svc("/docker/abc123", 0, NULL);	/* too short for an id */
	svc("/docker/" HEX64 "00", 0, NULL);	/* too long */
	svc("/system.slice/docker-abc.scope", 0, NULL);
	svc("/machine.slice/libpod-conmon-" HEX64 ".scope", 0, NULL);
	svc("/docker/" HEX64 "x", 0, NULL);	/* not all hex */
	svc("/kubepods.slice/kubepods-besteffort.slice", 0, NULL);	/* a pod, no container */
	/* v1 controller paths of a container runtime's own naming are not ids */
	svc("/process_api/bcafae02c61cad4165637d892efa6d78", 0, NULL);
}

static void test_fit(void **state)
{
	char small[24];

	/* the name must fit with its NUL */
	assert_int_equal(ks_service_from_cgroup("/system.slice/nginx.service", small, 13),
			 KS_SVC_NONE);
	assert_int_equal(ks_service_from_cgroup("/system.slice/nginx.service", small, 14),
			 KS_SVC_UNIT);
	assert_string_equal(small, "nginx.service");
	assert_int_equal(ks_service_from_cgroup("/docker/" HEX64, small, 19), KS_SVC_NONE);
	assert_int_equal(ks_service_from_cgroup("/docker/" HEX64, small, 20), KS_SVC_CONTAINER);
	assert_string_equal(small, "docker:3f4e5d6c7b8a");
	assert_string_equal(ks_svc_kind_name(KS_SVC_CONTAINER), "container");
	assert_string_equal(ks_svc_kind_name(KS_SVC_EXE), "exe");
	assert_string_equal(ks_svc_kind_name(99), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_neither),
		cmocka_unit_test(test_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
