/*
 * The escape probe: a hostile process inside a container tries every class
 * of attack and prints one line per attempt:
 *
 *   NAME BLOCKED <errno or detail>    the attack was refused
 *   NAME OPEN <detail>                the attack went through
 *   NAME WORKS                        a positive check: this must work
 *   NAME BROKEN <detail>              a positive check that failed
 *   NAME SKIP <why>                   not applicable here
 *
 * (exec-self also prints `exec-self-exe IS <target>`, and SEALED for a
 * write-open that succeeded on a memfd sealed against writes.)
 *
 * Usage: probe [--host-pid=N] [--key=DESC] [--key-id=N] all|GROUP|NAME...
 *        probe list                       every attempt with its group
 *        probe watch LOG SECONDS          the CVE-2019-5736 watcher
 *        probe reopen FD PID LOG          reopen an O_PATH fd for writing
 *                                         once PID has exited
 *        probe exec-self                  readlink and write-open own exe
 *        probe host-key-add DESC SECRET   (on the host) add a user key to
 *                                         @u, print its id
 *        probe host-key-remove ID         (on the host) revoke and unlink it
 *
 * Raw syscalls (syscall(2)) throughout, so no glibc wrapper hides or
 * emulates anything. Each attempt runs in its own forked child (with a
 * timeout), so a chroot, a personality or a seccomp kill stays there.
 * Nothing here writes to a host file: cgroup files get their own value
 * back, /proc/sys files are only opened, device nodes are only opened and
 * read (kmsg gets one harmless log line when it is writable), and a
 * write-open of a foreign executable is closed at once, never written.
 *
 * Build: cc -static -O1 -pthread -o probe probe.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/io_uring.h>
#include <sys/quota.h>
#include <sys/timex.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif

static long host_pid = 0;
static const char *key_desc = NULL;
static long key_id = 0;

/* ---------- output ---------- */

static const char *en(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

static void report(const char *name, const char *verdict, const char *fmt, ...)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s %s", name, verdict);
	if (fmt && *fmt && n < (int)sizeof buf - 2) {
		buf[n++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
		va_end(ap);
	}
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	/* one line, no stray newlines from details */
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	(void)!write(1, buf, n);
}

#define BLOCKED(name, ...) report(name, "BLOCKED", __VA_ARGS__)
#define OPEN(name, ...) report(name, "OPEN", __VA_ARGS__)
#define WORKS(name) report(name, "WORKS", "")
#define BROKEN(name, ...) report(name, "BROKEN", __VA_ARGS__)
#define SKIP(name, ...) report(name, "SKIP", __VA_ARGS__)

/* ---------- small raw-syscall helpers ---------- */

static int sys_open(const char *path, int flags, int mode)
{
	return syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
}

static int sys_mknod(const char *path, mode_t mode, unsigned maj, unsigned min)
{
	/* the kernel's new_encode_dev */
	unsigned dev = (min & 0xff) | ((maj & 0xfff) << 8) | ((min & ~0xffu) << 12);
	return syscall(SYS_mknodat, AT_FDCWD, path, mode, dev);
}

static int sys_mount(const char *src, const char *dst, const char *type,
		     unsigned long flags, const void *data)
{
	return syscall(SYS_mount, src, dst, type, flags, data);
}

static int sys_umount(const char *dst, int flags)
{
	return syscall(SYS_umount2, dst, flags);
}

/* Read up to len-1 bytes of a file; -1 with errno on failure. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = sys_open(path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t n = syscall(SYS_read, fd, buf + got, len - 1 - got);
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0 || got + n >= len - 1) {
			got += n;
			break;
		}
		got += n;
	}
	close(fd);
	buf[got] = 0;
	return got;
}

/* Count every byte of a file (for masked /proc files); -1 on error. */
static long count_bytes(const char *path, int *err)
{
	int fd = sys_open(path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	char buf[4096];
	long total = 0;
	for (int i = 0; i < 4096; i++) {
		ssize_t n = syscall(SYS_read, fd, buf, sizeof buf);
		if (n < 0) {
			*err = errno;
			close(fd);
			return total ? total : -1;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	return total;
}

static int write_str(const char *path, const char *s)
{
	int fd = sys_open(path, O_WRONLY, 0);
	if (fd < 0)
		return -1;
	ssize_t n = syscall(SYS_write, fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

static int has_cap(int cap)
{
	char buf[4096];
	if (read_file("/proc/self/status", buf, sizeof buf) < 0)
		return 0;
	char *p = strstr(buf, "CapEff:");
	if (!p)
		return 0;
	unsigned long long eff = strtoull(p + 7, NULL, 16);
	return (eff >> cap) & 1;
}

/* ---------- devices ---------- */

/* Every block device of the host, from sysfs: "maj:min" strings. */
static int block_devices(unsigned maj[], unsigned min[], int max)
{
	DIR *d = opendir("/sys/dev/block");
	int n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max)
		if (sscanf(e->d_name, "%u:%u", &maj[n], &min[n]) == 2)
			n++;
	closedir(d);
	return n;
}

/* mknod a node at path, open it, read and/or write; OPEN if it opens.
 * Returns 1 when it opened; with quiet, reports nothing but fills why. */
static int dev_open(const char *path, mode_t type, unsigned maj, unsigned min, int oflags,
		    int do_read, const char *write_msg, char *why, size_t wlen)
{
	unlink(path);
	if (sys_mknod(path, type | 0600, maj, min) != 0) {
		snprintf(why, wlen, "mknod %u:%u at %s: %s", maj, min, path, en(errno));
		return 0;
	}
	int fd = sys_open(path, oflags | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;
		unlink(path);
		snprintf(why, wlen, "mknod %u:%u at %s ok, open: %s", maj, min, path, en(e));
		return 0;
	}
	char what[128] = "";
	if (do_read) {
		char buf[512];
		ssize_t n = syscall(SYS_read, fd, buf, sizeof buf);
		if (n >= 0)
			snprintf(what, sizeof what, ", read %zd bytes", n);
		else
			snprintf(what, sizeof what, ", read: %s", en(errno));
	}
	if (write_msg) {
		ssize_t n = syscall(SYS_write, fd, write_msg, strlen(write_msg));
		size_t l = strlen(what);
		if (n >= 0)
			snprintf(what + l, sizeof what - l, ", wrote %zd bytes", n);
		else
			snprintf(what + l, sizeof what - l, ", write: %s", en(errno));
	}
	close(fd);
	unlink(path);
	snprintf(why, wlen, "mknod+open %u:%u at %s%s", maj, min, path, what);
	return 1;
}

static void dev_try(const char *name, const char *path, mode_t type, unsigned maj,
		    unsigned min, int oflags, int do_read, const char *write_msg)
{
	char why[256];
	if (dev_open(path, type, maj, min, oflags, do_read, write_msg, why, sizeof why))
		OPEN(name, "%s", why);
	else
		BLOCKED(name, "%s", why);
}

/* Every host block device in sysfs, made at dir/escape-blk and read. */
static void dev_blocks(const char *name, const char *path)
{
	unsigned maj[64], min[64];
	int n = block_devices(maj, min, 64);
	if (n == 0) {
		maj[0] = 7, min[0] = 0, n = 1;
	}
	char opened[1024] = "", refused[512] = "", why[256];
	for (int i = 0; i < n; i++) {
		if (dev_open(path, S_IFBLK, maj[i], min[i], O_RDONLY, 1, NULL, why, sizeof why)) {
			snprintf(opened + strlen(opened), sizeof opened - strlen(opened), " %u:%u",
				 maj[i], min[i]);
		} else {
			/* the last word of why is the errno */
			const char *e = strrchr(why, ' ');
			char tag[64];
			snprintf(tag, sizeof tag, " %s%s", strstr(why, " ok, open") ? "open " : "mknod ",
				 e ? e + 1 : why);
			if (!strstr(refused, tag))
				snprintf(refused + strlen(refused), sizeof refused - strlen(refused), "%s",
					 tag);
		}
	}
	if (*opened)
		OPEN(name, "opened at %s (read as block devices):%s", path, opened);
	else
		BLOCKED(name, "%d host block devices at %s, none opened:%s", n, path, refused);
}

static void a_dev_block_tmp(void) { dev_blocks("dev-block-tmp", "/tmp/escape-blk"); }
static void a_dev_block_root(void) { dev_blocks("dev-block-root", "/escape-blk"); }
static void a_dev_block_dev(void) { dev_blocks("dev-block-dev", "/dev/escape-blk"); }

static void a_dev_loop0(void)
{
	dev_try("dev-loop0", "/escape-loop0", S_IFBLK, 7, 0, O_RDONLY, 1, NULL);
}

static void a_dev_sda(void)
{
	dev_try("dev-sda", "/dev/escape-sda", S_IFBLK, 8, 0, O_RDONLY, 1, NULL);
}

static void a_dev_kvm(void)
{
	dev_try("dev-kvm", "/dev/escape-kvm", S_IFCHR, 10, 232, O_RDWR, 0, NULL);
}

static void a_dev_mem(void)
{
	dev_try("dev-mem", "/dev/escape-mem", S_IFCHR, 1, 1, O_RDONLY, 1, NULL);
}

static void a_dev_kmsg(void)
{
	dev_try("dev-kmsg", "/dev/escape-kmsg", S_IFCHR, 1, 11, O_WRONLY, 0,
		"<6>stack-escape-probe: /dev/kmsg is writable from a container\n");
}

static void a_dev_tty1(void)
{
	dev_try("dev-tty1", "/dev/escape-tty1", S_IFCHR, 4, 1, O_RDWR, 0, NULL);
}

static int allowed_dev(const char *rel)
{
	static const char *ok[] = {"null", "zero", "full", "random", "urandom",
				   "tty", "ptmx", "console", NULL};
	if (strncmp(rel, "pts/", 4) == 0)
		return 1;
	for (int i = 0; ok[i]; i++)
		if (strcmp(rel, ok[i]) == 0)
			return 1;
	return 0;
}

static void scan_dev(const char *dir, const char *rel, int depth, char *opened,
		     size_t olen, int *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512], r[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 3) {
			scan_dev(path, r, depth + 1, opened, olen, count);
			continue;
		}
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			continue;
		if (allowed_dev(r))
			continue;
		(*count)++;
		int fd = sys_open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd >= 0) {
			close(fd);
			snprintf(opened + strlen(opened), olen - strlen(opened), " %s(%u:%u)", r,
				 major(st.st_rdev), minor(st.st_rdev));
		}
	}
	closedir(d);
}

static void a_dev_existing(void)
{
	char opened[2048] = "";
	int count = 0;
	scan_dev("/dev", "", 0, opened, sizeof opened, &count);
	if (*opened)
		OPEN("dev-existing", "opened%s", opened);
	else
		BLOCKED("dev-existing", "%d other device nodes in /dev, none opened", count);
}

/* ---------- limits (cgroups) ---------- */

/* Write a cgroup file's own value back (or `value`); OPEN when accepted. */
static void writeback(const char *name, const char *dir, const char *file, const char *value)
{
	char path[512], cur[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (!value) {
		ssize_t n = read_file(path, cur, sizeof cur);
		if (n < 0) {
			BLOCKED(name, "read %s: %s", file, en(errno));
			return;
		}
		if (n == 0 || cur[n - 1] != '\n') {
			if (n == 0)
				strcpy(cur, "\n");
			else if ((size_t)n < sizeof cur - 1)
				strcat(cur, "\n");
		}
		value = cur;
	}
	int fd = sys_open(path, O_WRONLY, 0);
	if (fd < 0) {
		BLOCKED(name, "open %s for writing: %s", file, en(errno));
		return;
	}
	ssize_t w = syscall(SYS_write, fd, value, strlen(value));
	int e = errno;
	close(fd);
	if (w < 0)
		BLOCKED(name, "write %s: %s", file, en(e));
	else
		OPEN(name, "wrote %s back into %s", file, dir);
}

/* mount a cgroup hierarchy at a fresh dir; 0 or -1 (reported). */
static int cg_mount(const char *name, const char *dir, const char *type, const char *opts)
{
	mkdir(dir, 0700);
	if (sys_mount("cgroup", dir, type, 0, opts) != 0) {
		BLOCKED(name, "mount -t %s -o %s: %s", type, opts ? opts : "", en(errno));
		return -1;
	}
	return 0;
}

static void cg_attacks(const char *prefix)
{
	char n[128], dir[128];
	/* pids */
	snprintf(n, sizeof n, "%s-pids-max", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-pids", prefix);
	if (cg_mount(n, dir, "cgroup", "pids") == 0)
		writeback(n, dir, "pids.max", NULL);
	/* memory */
	snprintf(n, sizeof n, "%s-memory-limit", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-mem", prefix);
	if (cg_mount(n, dir, "cgroup", "memory") == 0)
		writeback(n, dir, "memory.limit_in_bytes", NULL);
	/* blkio */
	snprintf(n, sizeof n, "%s-blkio", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-blkio", prefix);
	if (cg_mount(n, dir, "cgroup", "blkio") == 0)
		writeback(n, dir, "notify_on_release", NULL);
	/* devices: one of its own allow lines, written back (could be "a") */
	snprintf(n, sizeof n, "%s-devices-allow", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-dev", prefix);
	if (cg_mount(n, dir, "cgroup", "devices") == 0) {
		char list[4096], path[256];
		snprintf(path, sizeof path, "%s/devices.list", dir);
		if (read_file(path, list, sizeof list) > 0) {
			char *nl = strchr(list, '\n');
			if (nl)
				nl[1] = 0;
			writeback(n, dir, "devices.allow", list);
		} else {
			BLOCKED(n, "read devices.list: %s", en(errno));
		}
	}
	/* name=systemd: notify_on_release and release_agent */
	snprintf(n, sizeof n, "%s-systemd-notify", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-sd", prefix);
	if (cg_mount(n, dir, "cgroup", "none,name=systemd") == 0) {
		writeback(n, dir, "notify_on_release", NULL);
		snprintf(n, sizeof n, "%s-release-agent", prefix);
		writeback(n, dir, "release_agent", NULL);
	}
	/* cgroup2 */
	snprintf(n, sizeof n, "%s-cgroup2", prefix);
	snprintf(dir, sizeof dir, "/tmp/escape-cg-%s-v2", prefix);
	if (cg_mount(n, dir, "cgroup2", NULL) == 0)
		writeback(n, dir, "cgroup.max.descendants", NULL);
}

/* Inside a fresh user namespace: map our outer uid to 0, then attack. */
static void in_userns(const char *prefix, uid_t outer_uid, gid_t outer_gid)
{
	char m[64];
	write_str("/proc/self/setgroups", "deny");
	snprintf(m, sizeof m, "0 %u 1", outer_uid);
	int u = write_str("/proc/self/uid_map", m);
	snprintf(m, sizeof m, "0 %u 1", outer_gid);
	write_str("/proc/self/gid_map", m);
	(void)u;
	cg_attacks(prefix);
}

static void a_cg_unshare(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) != 0) {
		BLOCKED("cg-unshare-userns", "unshare(NEWUSER|NEWNS|NEWCGROUP): %s", en(errno));
		return;
	}
	OPEN("cg-unshare-userns", "unshare(NEWUSER|NEWNS|NEWCGROUP) succeeded");
	in_userns("cg-unshare", uid, gid);
}

static void a_cg_clone(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int pfd[2];
	if (pipe(pfd) != 0)
		return;
	long pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP | SIGCHLD,
			   NULL, NULL, NULL, 0);
	if (pid < 0) {
		BLOCKED("cg-clone-userns", "clone(NEWUSER|NEWNS|NEWCGROUP): %s", en(errno));
		return;
	}
	if (pid == 0) {
		char c;
		close(pfd[1]);
		/* wait for the parent's line first, for a tidy order */
		(void)!read(pfd[0], &c, 1);
		in_userns("cg-clone", uid, gid);
		_exit(0);
	}
	OPEN("cg-clone-userns", "clone(NEWUSER|NEWNS|NEWCGROUP) succeeded");
	close(pfd[0]);
	close(pfd[1]);
	waitpid(pid, NULL, 0);
}

static void a_cg_mount_v1(void)
{
	if (cg_mount("cg-mount-v1", "/tmp/escape-cgd1", "cgroup", "pids") == 0) {
		OPEN("cg-mount-v1", "mounted cgroup pids in the container");
		sys_umount("/tmp/escape-cgd1", MNT_DETACH);
	}
}

static void a_cg_mount_systemd(void)
{
	if (cg_mount("cg-mount-systemd", "/tmp/escape-cgd2", "cgroup", "none,name=systemd") == 0) {
		OPEN("cg-mount-systemd", "mounted name=systemd in the container");
		sys_umount("/tmp/escape-cgd2", MNT_DETACH);
	}
}

static void a_cg_mount_v2(void)
{
	if (cg_mount("cg-mount-v2", "/tmp/escape-cgd3", "cgroup2", NULL) == 0) {
		OPEN("cg-mount-v2", "mounted cgroup2 in the container");
		sys_umount("/tmp/escape-cgd3", MNT_DETACH);
	}
}

static void a_cg_remount(void)
{
	struct stat st;
	if (stat("/sys/fs/cgroup", &st) != 0) {
		BLOCKED("cg-remount-rw", "no /sys/fs/cgroup: %s", en(errno));
		return;
	}
	if (sys_mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_BIND, NULL) != 0) {
		BLOCKED("cg-remount-rw", "remount /sys/fs/cgroup rw: %s", en(errno));
		return;
	}
	sys_mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
	OPEN("cg-remount-rw", "remounted /sys/fs/cgroup read-write");
}

/* Try writing cgroup files under /sys/fs/cgroup (and one level below). */
static void a_cg_write(void)
{
	static const char *files[] = {"pids.max", "memory.max", "memory.limit_in_bytes",
				      "cgroup.procs", "notify_on_release",
				      "release_agent", "devices.allow", NULL};
	char dirs[32][256];
	int nd = 0;
	strcpy(dirs[nd++], "/sys/fs/cgroup");
	DIR *d = opendir("/sys/fs/cgroup");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) && nd < 32) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(dirs[nd], sizeof dirs[nd], "/sys/fs/cgroup/%s", e->d_name);
			struct stat st;
			if (stat(dirs[nd], &st) == 0 && S_ISDIR(st.st_mode))
				nd++;
		}
		closedir(d);
	}
	char opened[1024] = "", refused[1024] = "";
	int tried = 0;
	for (int i = 0; i < nd; i++)
		for (int j = 0; files[j]; j++) {
			char path[512], cur[4096];
			snprintf(path, sizeof path, "%s/%s", dirs[i], files[j]);
			struct stat st;
			if (stat(path, &st) != 0)
				continue;
			tried++;
			const char *val = cur;
			if (strcmp(files[j], "cgroup.procs") == 0) {
				snprintf(cur, sizeof cur, "%d\n", getpid());
			} else if (strcmp(files[j], "devices.allow") == 0) {
				char lp[512];
				snprintf(lp, sizeof lp, "%s/devices.list", dirs[i]);
				if (read_file(lp, cur, sizeof cur) <= 0)
					strcpy(cur, "c 1:3 rwm\n");
				char *nl = strchr(cur, '\n');
				if (nl)
					nl[1] = 0;
			} else {
				ssize_t n = read_file(path, cur, sizeof cur);
				if (n <= 0)
					strcpy(cur, "\n");
			}
			int fd = sys_open(path, O_WRONLY, 0);
			int e;
			if (fd >= 0) {
				ssize_t w = syscall(SYS_write, fd, val, strlen(val));
				e = errno;
				close(fd);
				if (w >= 0) {
					snprintf(opened + strlen(opened), sizeof opened - strlen(opened),
						 " %s", path + 15);
					continue;
				}
			} else {
				e = errno;
			}
			if (!strstr(refused, en(e)))
				snprintf(refused + strlen(refused), sizeof refused - strlen(refused),
					 " %s", en(e));
		}
	if (*opened)
		OPEN("cg-write", "wrote back:%s", opened);
	else if (tried)
		BLOCKED("cg-write", "%d files, every write refused:%s", tried, refused);
	else
		BLOCKED("cg-write", "no cgroup files under /sys/fs/cgroup");
}

static void p_cgroup_stats(void)
{
	static const char *files[] = {"/sys/fs/cgroup/memory.current",
				      "/sys/fs/cgroup/memory/memory.usage_in_bytes",
				      "/sys/fs/cgroup/pids.current",
				      "/sys/fs/cgroup/pids/pids.current", NULL};
	char buf[256], got[512] = "";
	for (int i = 0; files[i]; i++) {
		ssize_t n = read_file(files[i], buf, sizeof buf);
		if (n > 0 && buf[0] >= '0' && buf[0] <= '9') {
			buf[strcspn(buf, "\n")] = 0;
			snprintf(got + strlen(got), sizeof got - strlen(got), " %s=%s",
				 files[i] + 15, buf);
		}
	}
	if (*got)
		report("ok-cgroup-stats", "WORKS", "%s", got + 1);
	else
		BROKEN("ok-cgroup-stats", "no memory/pids stats readable under /sys/fs/cgroup");
}

/* ---------- keyring ---------- */

static long sys_keyctl(long op, long a, long b, long c, long d)
{
	return syscall(SYS_keyctl, op, a, b, c, d);
}

static void key_read_report(const char *name, long id, const char *how)
{
	char buf[256];
	long n = sys_keyctl(KEYCTL_READ, id, (long)buf, sizeof buf - 1, 0);
	if (n >= 0) {
		if (n > (long)sizeof buf - 1)
			n = sizeof buf - 1;
		buf[n] = 0;
		OPEN(name, "%s key %ld, read its payload: %s", how, id, buf);
	} else {
		OPEN(name, "%s key %ld (read: %s)", how, id, en(errno));
	}
}

static void key_search(const char *name, long ring, const char *ringname)
{
	if (!key_desc) {
		SKIP(name, "no --key given");
		return;
	}
	long id = sys_keyctl(KEYCTL_SEARCH, ring, (long)"user", (long)key_desc, 0);
	if (id < 0) {
		BLOCKED(name, "search %s: %s", ringname, en(errno));
		return;
	}
	key_read_report(name, id, "found");
}

static void a_key_search_user(void) { key_search("key-search-user", KEY_SPEC_USER_KEYRING, "@u"); }
static void a_key_search_session(void) { key_search("key-search-session", KEY_SPEC_SESSION_KEYRING, "@s"); }

static void a_key_request(void)
{
	if (!key_desc) {
		SKIP("key-request", "no --key given");
		return;
	}
	long id = syscall(SYS_request_key, "user", key_desc, NULL, 0);
	if (id < 0) {
		BLOCKED("key-request", "request_key: %s", en(errno));
		return;
	}
	key_read_report("key-request", id, "request_key found");
}

static void a_key_read(void)
{
	if (!key_id) {
		SKIP("key-read", "no --key-id given");
		return;
	}
	char buf[256];
	long n = sys_keyctl(KEYCTL_READ, key_id, (long)buf, sizeof buf - 1, 0);
	if (n < 0) {
		int e = errno;
		long d = sys_keyctl(KEYCTL_DESCRIBE, key_id, (long)buf, sizeof buf - 1, 0);
		if (d >= 0) {
			buf[sizeof buf - 1] = 0;
			OPEN("key-read", "read: %s, but describe shows the key: %s", en(e), buf);
		} else {
			BLOCKED("key-read", "KEYCTL_READ %ld: %s, DESCRIBE: %s", key_id, en(e), en(errno));
		}
		return;
	}
	if (n > (long)sizeof buf - 1)
		n = sizeof buf - 1;
	buf[n] = 0;
	OPEN("key-read", "KEYCTL_READ %ld: %s", key_id, buf);
}

static void a_key_add_user(void)
{
	long id = syscall(SYS_add_key, "user", "stack-escape-probe-planted", "x", 1,
			  KEY_SPEC_USER_KEYRING);
	if (id < 0) {
		BLOCKED("key-add-user", "add_key to @u: %s", en(errno));
		return;
	}
	sys_keyctl(KEYCTL_REVOKE, id, 0, 0, 0);
	sys_keyctl(KEYCTL_UNLINK, id, KEY_SPEC_USER_KEYRING, 0, 0);
	OPEN("key-add-user", "planted key %ld in the user keyring @u (removed again)", id);
}

static void a_key_join(void)
{
	long id = sys_keyctl(KEYCTL_JOIN_SESSION_KEYRING, (long)"_ses", 0, 0, 0);
	if (id < 0) {
		BLOCKED("key-join-session", "join _ses: %s", en(errno));
		return;
	}
	if (!key_desc) {
		OPEN("key-join-session", "joined session keyring %ld", id);
		return;
	}
	long k = sys_keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)key_desc, 0);
	if (k >= 0)
		key_read_report("key-join-session", k, "joined _ses and found");
	else
		BLOCKED("key-join-session", "joined keyring %ld, the host key is not in it: %s", id,
			en(errno));
}

static void a_proc_keys(void)
{
	int e = 0;
	long n = count_bytes("/proc/keys", &e);
	if (n > 0)
		OPEN("proc-keys", "/proc/keys shows %ld bytes", n);
	else if (n == 0)
		BLOCKED("proc-keys", "empty");
	else
		BLOCKED("proc-keys", "%s", en(e));
}

/* ---------- seccomp class ---------- */

static void a_sc_unshare(void)
{
	if (syscall(SYS_unshare, CLONE_NEWUSER) != 0)
		BLOCKED("sc-unshare-userns", "unshare(CLONE_NEWUSER): %s", en(errno));
	else
		OPEN("sc-unshare-userns", "unshare(CLONE_NEWUSER) succeeded");
}

static void a_sc_clone(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		BLOCKED("sc-clone-userns", "clone(CLONE_NEWUSER): %s", en(errno));
		return;
	}
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	OPEN("sc-clone-userns", "clone(CLONE_NEWUSER) succeeded");
}

static void a_sc_clone3(void)
{
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.flags = CLONE_NEWUSER;
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid < 0) {
		BLOCKED("sc-clone3", "clone3(CLONE_NEWUSER): %s", en(errno));
		return;
	}
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	OPEN("sc-clone3", "clone3(CLONE_NEWUSER) succeeded");
}

static void a_sc_perf(void)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0) {
		BLOCKED("sc-perf-event-open", "%s", en(errno));
		return;
	}
	close(fd);
	OPEN("sc-perf-event-open", "perf_event_open gave fd %d", fd);
}

static void a_sc_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		BLOCKED("sc-userfaultfd", "%s", en(errno));
		return;
	}
	close(fd);
	OPEN("sc-userfaultfd", "userfaultfd gave fd %d", fd);
}

static void a_sc_personality(void)
{
	long old = syscall(SYS_personality, 0x0400000);
	if (old < 0) {
		BLOCKED("sc-personality", "personality(READ_IMPLIES_EXEC): %s", en(errno));
		return;
	}
	long now = syscall(SYS_personality, 0xffffffff);
	if (now >= 0 && (now & 0x0400000))
		OPEN("sc-personality", "READ_IMPLIES_EXEC set");
	else
		BLOCKED("sc-personality", "accepted but not set (%lx)", now);
}

struct fh {
	unsigned int handle_bytes;
	int handle_type;
	unsigned char f_handle[128];
};

static void a_sc_name_to_handle(void)
{
	struct fh h;
	int mount_id;
	h.handle_bytes = 128;
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mount_id, 0) != 0)
		BLOCKED("sc-name-to-handle-at", "%s", en(errno));
	else
		OPEN("sc-name-to-handle-at", "got a %u-byte handle of /", h.handle_bytes);
}

/* shocker: open an inode by a forged handle, bypassing the mount tree */
static void a_sc_open_by_handle(void)
{
	struct fh h;
	int mount_id;
	int root = sys_open("/", O_RDONLY | O_DIRECTORY, 0);
	h.handle_bytes = 128;
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mount_id, 0) != 0) {
		/* an ext4-style handle of inode 2 (a file system's root) */
		h.handle_bytes = 8;
		h.handle_type = 1;
		memset(h.f_handle, 0, 8);
		h.f_handle[0] = 2;
	}
	int fd = syscall(SYS_open_by_handle_at, root, &h, O_RDONLY);
	if (fd < 0) {
		BLOCKED("sc-open-by-handle-at", "%s", en(errno));
	} else {
		close(fd);
		OPEN("sc-open-by-handle-at", "open_by_handle_at opened an inode by handle");
	}
	close(root);
}

static void a_sc_io_uring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	int fd = syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0) {
		BLOCKED("sc-io-uring-setup", "%s", en(errno));
		return;
	}
	close(fd);
	OPEN("sc-io-uring-setup", "io_uring_setup gave fd %d", fd);
}

static void a_sc_bpf(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	int fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
	if (fd < 0) {
		BLOCKED("sc-bpf", "BPF_MAP_CREATE: %s", en(errno));
		return;
	}
	close(fd);
	OPEN("sc-bpf", "BPF_MAP_CREATE gave fd %d", fd);
}

static void a_sc_keyctl(void)
{
	long id = sys_keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	if (id < 0)
		BLOCKED("sc-keyctl", "%s", en(errno));
	else
		OPEN("sc-keyctl", "session keyring is %ld", id);
}

static void a_sc_add_key(void)
{
	long id = syscall(SYS_add_key, "user", "stack-escape-probe", "x", 1,
			  KEY_SPEC_SESSION_KEYRING);
	if (id < 0) {
		BLOCKED("sc-add-key", "%s", en(errno));
		return;
	}
	sys_keyctl(KEYCTL_REVOKE, id, 0, 0, 0);
	sys_keyctl(KEYCTL_UNLINK, id, KEY_SPEC_SESSION_KEYRING, 0, 0);
	OPEN("sc-add-key", "add_key to @s gave %ld", id);
}

static void a_sc_request_key(void)
{
	long id = syscall(SYS_request_key, "user", "stack-escape-none", NULL, 0);
	if (id >= 0)
		OPEN("sc-request-key", "found key %ld", id);
	else if (errno == ENOKEY || errno == EKEYREVOKED || errno == EKEYEXPIRED)
		OPEN("sc-request-key", "reachable (%s)", en(errno));
	else
		BLOCKED("sc-request-key", "%s", en(errno));
}

static void a_sc_vsock(void)
{
	int fd = syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0) {
		BLOCKED("sc-socket-vsock", "%s", en(errno));
		return;
	}
	close(fd);
	OPEN("sc-socket-vsock", "socket(AF_VSOCK) gave fd %d", fd);
}

/* ---------- already blocked ---------- */

static void a_kill_host(void)
{
	if (!host_pid) {
		SKIP("kill-host-pid", "no --host-pid given");
		return;
	}
	if (syscall(SYS_kill, host_pid, SIGKILL) != 0)
		BLOCKED("kill-host-pid", "kill(%ld, SIGKILL): %s", host_pid, en(errno));
	else
		OPEN("kill-host-pid", "kill(%ld, SIGKILL) succeeded", host_pid);
}

static void a_kill_all(void)
{
	/* SIGCONT: harmless to everything it reaches; the test checks that a
	 * stopped process on the host stays stopped. */
	long r = syscall(SYS_kill, -1, SIGCONT);
	int e = errno;
	char p[64];
	struct stat st;
	snprintf(p, sizeof p, "/proc/%ld", host_pid);
	if (host_pid && stat(p, &st) == 0)
		OPEN("kill-all", "kill(-1, SIGCONT)=%ld and host pid %ld is visible", r, host_pid);
	else
		BLOCKED("kill-all", "kill(-1, SIGCONT)=%s; reaches only this pid namespace",
			r == 0 ? "0" : en(e));
}

static void open_write_only(const char *name, const char *path)
{
	int fd = sys_open(path, O_WRONLY, 0);
	if (fd < 0) {
		BLOCKED(name, "open %s for writing: %s", path, en(errno));
		return;
	}
	close(fd);
	OPEN(name, "opened %s for writing (nothing written)", path);
}

static void a_proc_core_pattern(void) { open_write_only("proc-sys-core-pattern", "/proc/sys/kernel/core_pattern"); }
static void a_proc_panic(void) { open_write_only("proc-sys-panic", "/proc/sys/kernel/panic"); }
static void a_proc_modprobe(void) { open_write_only("proc-sys-modprobe", "/proc/sys/kernel/modprobe"); }
static void a_proc_sysrq(void) { open_write_only("proc-sysrq-trigger", "/proc/sysrq-trigger"); }

static void masked(const char *name, const char *path)
{
	int e = 0;
	long n = count_bytes(path, &e);
	if (n > 0)
		OPEN(name, "%s shows %ld bytes", path, n);
	else if (n == 0)
		BLOCKED(name, "empty");
	else
		BLOCKED(name, "%s", en(e));
}

static void a_proc_kcore(void) { masked("proc-kcore", "/proc/kcore"); }
static void a_proc_timer_list(void) { masked("proc-timer-list", "/proc/timer_list"); }
static void a_proc_sched_debug(void) { masked("proc-sched-debug", "/proc/sched_debug"); }

/* A private mount namespace if we may have one: a mount that does go
 * through then changes only this child's view, never the container's. */
static int private_ns(void)
{
	if (syscall(SYS_unshare, CLONE_NEWNS) != 0)
		return 0;
	sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	return 1;
}

static void try_mount(const char *name, const char *src, const char *dst, const char *type,
		      unsigned long flags)
{
	int priv = private_ns();
	mkdir(dst, 0700);
	if (sys_mount(src, dst, type, flags, NULL) != 0) {
		BLOCKED(name, "%s: %s", type ? type : "bind", en(errno));
		return;
	}
	sys_umount(dst, MNT_DETACH);
	OPEN(name, "mounted %s on %s%s", type ? type : "a bind", dst,
	     priv ? " (in a new mount namespace: unshare(CLONE_NEWNS) worked too)" : "");
}

static void a_mount_tmpfs(void) { try_mount("mount-tmpfs", "tmpfs", "/tmp/escape-m1", "tmpfs", 0); }
static void a_mount_proc(void) { try_mount("mount-proc", "proc", "/tmp/escape-m2", "proc", 0); }
static void a_mount_bind(void) { try_mount("mount-bind", "/", "/tmp/escape-m3", NULL, MS_BIND | MS_REC); }

static void a_mount_remount_proc_sys(void)
{
	int priv = private_ns();
	if (sys_mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL) != 0) {
		BLOCKED("mount-remount-proc-sys", "remount /proc/sys rw: %s", en(errno));
		return;
	}
	OPEN("mount-remount-proc-sys", "remounted /proc/sys read-write%s", priv ? " (private ns)" : "");
}

static void a_umount_masks(void)
{
	int priv = private_ns();
	static const char *masks[] = {"/proc/kcore", "/proc/sys", "/proc/sysrq-trigger", NULL};
	char gone[256] = "", errs[256] = "";
	for (int i = 0; masks[i]; i++) {
		if (sys_umount(masks[i], MNT_DETACH) == 0)
			snprintf(gone + strlen(gone), sizeof gone - strlen(gone), " %s", masks[i]);
		else if (!strstr(errs, en(errno)))
			snprintf(errs + strlen(errs), sizeof errs - strlen(errs), " %s", en(errno));
	}
	if (*gone)
		OPEN("umount-proc-masks", "unmounted%s%s", gone, priv ? " (private ns)" : "");
	else
		BLOCKED("umount-proc-masks", "umount:%s", errs);
}

static void a_pivot_root(void)
{
	int priv = private_ns();
	if (chdir("/") != 0) {
		BROKEN("pivot-root", "chdir /: %s", en(errno));
		return;
	}
	if (syscall(SYS_pivot_root, ".", ".") != 0) {
		BLOCKED("pivot-root", "pivot_root(., .): %s", en(errno));
		return;
	}
	sys_umount(".", MNT_DETACH);
	OPEN("pivot-root", "pivot_root(., .) succeeded%s", priv ? " (private ns)" : "");
}

/* chroot into a jail, then walk `..` from the old cwd/fd and chroot there:
 * the walk must end at the container's root, not the host's. */
static void chroot_walk(const char *name, int use_fd)
{
	struct stat before, after;
	if (stat("/", &before) != 0) {
		BROKEN(name, "stat /: %s", en(errno));
		return;
	}
	struct stat jail;
	int fd = sys_open("/", O_RDONLY | O_DIRECTORY, 0);
	mkdir("/tmp/escape-jail", 0700);
	stat("/tmp/escape-jail", &jail);
	/* the cwd stays outside the jail (dotdot), or the old root's fd is
	 * kept (fchdir, from inside the jail) */
	if (chdir(use_fd ? "/tmp/escape-jail" : "/tmp") != 0) {
		BROKEN(name, "chdir: %s", en(errno));
		return;
	}
	if (syscall(SYS_chroot, "/tmp/escape-jail") != 0) {
		BLOCKED(name, "chroot: %s", en(errno));
		return;
	}
	if (use_fd && syscall(SYS_fchdir, fd) != 0) {
		BLOCKED(name, "fchdir: %s", en(errno));
		return;
	}
	for (int i = 0; i < 64; i++)
		if (syscall(SYS_chdir, "..") != 0)
			break;
	if (syscall(SYS_chroot, ".") != 0) {
		BLOCKED(name, "second chroot: %s", en(errno));
		return;
	}
	if (stat("/", &after) != 0) {
		BLOCKED(name, "stat / after the walk: %s", en(errno));
		return;
	}
	if (after.st_dev == before.st_dev && after.st_ino == before.st_ino)
		BLOCKED(name, "the walk ended at the container's root");
	else if (after.st_dev == jail.st_dev && after.st_ino == jail.st_ino)
		BLOCKED(name, "the walk stayed in the jail");
	else
		OPEN(name, "the walk left the container's root (dev %lu ino %lu)",
		     (unsigned long)after.st_dev, (unsigned long)after.st_ino);
}

static void a_chroot_dotdot(void) { chroot_walk("chroot-dotdot", 0); }
static void a_chroot_fchdir(void) { chroot_walk("chroot-fchdir", 1); }

static void a_reboot(void)
{
	/* Only the harmless command, and only when EPERM is certain: without
	 * CAP_SYS_BOOT the kernel refuses before looking at the command. */
	if (has_cap(22)) {
		SKIP("reboot", "has CAP_SYS_BOOT, not calling reboot");
		return;
	}
	if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF,
		    NULL) != 0)
		BLOCKED("reboot", "reboot(CAD_OFF): %s", en(errno));
	else
		OPEN("reboot", "reboot(CAD_OFF) accepted");
}

/* EPERM: refused; any other error means the kernel looked further. */
static void eperm_only(const char *name, long r, const char *what)
{
	if (r == 0)
		OPEN(name, "%s succeeded", what);
	else if (errno == EPERM || errno == EACCES || errno == ENOSYS)
		BLOCKED(name, "%s: %s", what, en(errno));
	else
		OPEN(name, "%s got past the permission check (%s)", what, en(errno));
}

static void a_init_module(void)
{
	long r = syscall(SYS_init_module, NULL, 0, "");
	eperm_only("init-module", r, "init_module");
}

static void a_finit_module(void)
{
	long r = syscall(SYS_finit_module, -1, "", 0);
	eperm_only("finit-module", r, "finit_module(-1)");
}

static void a_delete_module(void)
{
	long r = syscall(SYS_delete_module, "stack_escape_no_such_module", O_NONBLOCK);
	eperm_only("delete-module", r, "delete_module");
}

static void a_kexec_load(void)
{
	long r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
	eperm_only("kexec-load", r, "kexec_load");
}

static void a_kexec_file_load(void)
{
	long r = syscall(SYS_kexec_file_load, -1, -1, 1, "", 0);
	eperm_only("kexec-file-load", r, "kexec_file_load(-1)");
}

static void a_swapon(void)
{
	long r = syscall(SYS_swapon, "/stack-escape-no-such-file", 0);
	eperm_only("swapon", r, "swapon");
}

static void a_settimeofday(void)
{
	/* NULL, NULL: the capability check, then nothing changes */
	long r = syscall(SYS_settimeofday, NULL, NULL);
	eperm_only("settimeofday", r, "settimeofday(NULL, NULL)");
}

static void a_clock_settime(void)
{
	if (has_cap(25)) {
		SKIP("clock-settime", "has CAP_SYS_TIME, not setting the clock");
		return;
	}
	struct timespec now;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
	long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &now);
	eperm_only("clock-settime", r, "clock_settime(CLOCK_REALTIME, now)");
}

static void a_adjtimex(void)
{
	struct timex t;
	memset(&t, 0, sizeof t);
	if (syscall(SYS_adjtimex, &t) < 0) {
		BLOCKED("adjtimex", "read: %s", en(errno));
		return;
	}
	long tick = t.tick;
	memset(&t, 0, sizeof t);
	t.modes = ADJ_TICK;
	t.tick = tick; /* its own value back */
	long r = syscall(SYS_adjtimex, &t);
	eperm_only("adjtimex", r < 0 ? -1 : 0, "adjtimex(ADJ_TICK, same tick)");
}

static void a_sethostname(void)
{
	char old[65] = "";
	struct {
		char f[6][65];
	} u;
	if (syscall(SYS_uname, &u) == 0)
		strncpy(old, u.f[1], 64);
	const char *n = "stack-escape-probe";
	if (syscall(SYS_sethostname, n, strlen(n)) != 0) {
		BLOCKED("uts-sethostname", "sethostname: %s", en(errno));
		return;
	}
	syscall(SYS_sethostname, old, strlen(old));
	BLOCKED("uts-sethostname", "changed only this container's own UTS namespace (restored)");
}

static void a_iopl(void)
{
#if defined(__x86_64__) || defined(__i386__)
	long r = syscall(SYS_iopl, 3);
	eperm_only("iopl", r, "iopl(3)");
#else
	SKIP("iopl", "not x86");
#endif
}

static void a_ioperm(void)
{
#if defined(__x86_64__) || defined(__i386__)
	long r = syscall(SYS_ioperm, 0x80, 1, 1);
	eperm_only("ioperm", r, "ioperm(0x80)");
#else
	SKIP("ioperm", "not x86");
#endif
}

static void a_acct(void)
{
	long r = syscall(SYS_acct, "/stack-escape-no-such-file");
	eperm_only("acct", r, "acct");
}

static void a_quotactl(void)
{
	long r = syscall(SYS_quotactl, QCMD(Q_SYNC, USRQUOTA), NULL, 0, NULL);
	eperm_only("quotactl", r, "quotactl(Q_SYNC)");
}

static void a_lookup_dcookie(void)
{
#ifdef SYS_lookup_dcookie
	char buf[64];
	long r = syscall(SYS_lookup_dcookie, 0ULL, buf, sizeof buf);
	eperm_only("lookup-dcookie", r, "lookup_dcookie");
#else
	SKIP("lookup-dcookie", "no such syscall on this architecture");
#endif
}

static void a_proc1_mem(void)
{
	int fd = sys_open("/proc/1/mem", O_RDONLY, 0);
	if (fd < 0) {
		BLOCKED("proc-1-mem", "open /proc/1/mem: %s", en(errno));
		return;
	}
	char c;
	long r = syscall(SYS_pread64, fd, &c, 1, 0x400000);
	close(fd);
	OPEN("proc-1-mem", "opened /proc/1/mem (pread: %s)", r >= 0 ? "ok" : en(errno));
}

static void a_proc1_environ(void)
{
	int e = 0;
	long n = count_bytes("/proc/1/environ", &e);
	if (n > 0)
		OPEN("proc-1-environ", "read %ld bytes of pid 1's environment", n);
	else if (n == 0)
		BLOCKED("proc-1-environ", "empty");
	else
		BLOCKED("proc-1-environ", "%s", en(e));
}

static void a_proc1_exe(void)
{
	char buf[512];
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/1/exe", buf, sizeof buf - 1);
	if (n < 0) {
		BLOCKED("proc-1-exe", "readlink /proc/1/exe: %s", en(errno));
		return;
	}
	buf[n] = 0;
	int fd = sys_open("/proc/1/exe", O_RDONLY, 0);
	if (fd >= 0)
		close(fd);
	OPEN("proc-1-exe", "/proc/1/exe -> %s (open: %s)", buf, fd >= 0 ? "ok" : en(errno));
}

static void a_proc1_root(void)
{
	int fd = sys_open("/proc/1/root/", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		BLOCKED("proc-1-root", "open /proc/1/root: %s", en(errno));
		return;
	}
	close(fd);
	OPEN("proc-1-root", "opened /proc/1/root");
}

static void a_ptrace1(void)
{
	if (syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0) != 0) {
		BLOCKED("ptrace-attach-1", "%s", en(errno));
		return;
	}
	waitpid(1, NULL, __WALL);
	syscall(SYS_ptrace, PTRACE_DETACH, 1, 0, 0);
	OPEN("ptrace-attach-1", "attached to pid 1 (detached again)");
}

/* ---------- positive ---------- */

static void p_shell(void)
{
	int pfd[2];
	if (pipe(pfd) != 0) {
		BROKEN("ok-shell", "pipe: %s", en(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		char *argv[] = {"/bin/sh", "-c", "echo ok", NULL};
		char *envp[] = {"PATH=/bin:/usr/bin", NULL};
		syscall(SYS_execve, argv[0], argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	char buf[16] = "";
	ssize_t n = read(pfd[0], buf, sizeof buf - 1);
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (n >= 2 && strncmp(buf, "ok", 2) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		WORKS("ok-shell");
	else
		BROKEN("ok-shell", "output %zd bytes, status %d", n, st);
}

static void p_tcp(void)
{
	int l = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &al)) {
		BROKEN("ok-tcp", "listen on 127.0.0.1: %s", en(errno));
		return;
	}
	int c = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(c, (void *)&a, sizeof a) != 0) {
		BROKEN("ok-tcp", "connect: %s", en(errno));
		return;
	}
	int s = accept(l, NULL, NULL);
	char buf[8] = "";
	if (s < 0 || write(c, "ping", 4) != 4 || read(s, buf, 4) != 4 || memcmp(buf, "ping", 4)) {
		BROKEN("ok-tcp", "accept/send/recv: %s", en(errno));
		return;
	}
	WORKS("ok-tcp");
}

static void p_udp(void)
{
	int r = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (r < 0 || bind(r, (void *)&a, sizeof a) || getsockname(r, (void *)&a, &al)) {
		BROKEN("ok-udp", "bind 127.0.0.1: %s", en(errno));
		return;
	}
	int s = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char buf[8] = "";
	if (sendto(s, "pong", 4, 0, (void *)&a, sizeof a) != 4 || recv(r, buf, 4, 0) != 4 ||
	    memcmp(buf, "pong", 4)) {
		BROKEN("ok-udp", "send/recv: %s", en(errno));
		return;
	}
	WORKS("ok-udp");
}

static void p_ptrace_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(2);
		raise(SIGSTOP);
		_exit(7);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
		BROKEN("ok-ptrace-child", "child not stopped under ptrace (status %d)", st);
		return;
	}
	long data = 0;
	syscall(SYS_ptrace, PTRACE_PEEKUSER, pid, 0, &data);
	if (syscall(SYS_ptrace, PTRACE_CONT, pid, 0, 0) != 0) {
		BROKEN("ok-ptrace-child", "PTRACE_CONT: %s", en(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 7)
		WORKS("ok-ptrace-child");
	else
		BROKEN("ok-ptrace-child", "child status %d", st);
}

static void *thread_fn(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static void p_thread(void)
{
	pthread_t t;
	int v = 0;
	int e = pthread_create(&t, NULL, thread_fn, &v);
	if (e != 0) {
		BROKEN("ok-thread", "pthread_create: %s", en(e));
		return;
	}
	pthread_join(t, NULL);
	if (v == 42)
		WORKS("ok-thread");
	else
		BROKEN("ok-thread", "the thread did not run");
}

static void p_shm(void)
{
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/escape-probe-%d", getpid());
	int fd = sys_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		BROKEN("ok-shm", "create %s: %s", path, en(errno));
		return;
	}
	char buf[5] = "";
	int ok = write(fd, "shm!", 4) == 4 && pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "shm!", 4);
	close(fd);
	unlink(path);
	if (ok)
		WORKS("ok-shm");
	else
		BROKEN("ok-shm", "write/read: %s", en(errno));
}

static void p_getrandom(void)
{
	unsigned char b[16];
	long n = syscall(SYS_getrandom, b, sizeof b, 0);
	if (n == (long)sizeof b)
		WORKS("ok-getrandom");
	else
		BROKEN("ok-getrandom", "%s", en(errno));
}

static void p_devices(void)
{
	char buf[16];
	int z = sys_open("/dev/zero", O_RDONLY, 0), u = sys_open("/dev/urandom", O_RDONLY, 0),
	    nl = sys_open("/dev/null", O_WRONLY, 0), f = sys_open("/dev/full", O_WRONLY, 0);
	int ok = z >= 0 && u >= 0 && nl >= 0 && f >= 0 && read(z, buf, 16) == 16 && buf[0] == 0 &&
		 read(u, buf, 16) == 16 && write(nl, "x", 1) == 1 && write(f, "x", 1) < 0 &&
		 errno == ENOSPC;
	int e = errno;
	close(z), close(u), close(nl), close(f);
	if (ok)
		WORKS("ok-devices");
	else
		BROKEN("ok-devices", "null/zero/full/urandom: %s", en(e));
}

static void p_mkfifo(void)
{
	const char *p = "/tmp/escape-fifo";
	unlink(p);
	if (sys_mknod(p, S_IFIFO | 0600, 0, 0) != 0) {
		BROKEN("ok-mkfifo", "mknod fifo: %s", en(errno));
		return;
	}
	unlink(p);
	WORKS("ok-mkfifo");
}

/* ---------- the table ---------- */

struct attempt {
	const char *name;
	const char *group;
	void (*fn)(void);
};

static const struct attempt ATTEMPTS[] = {
	{"dev-block-tmp", "devices", a_dev_block_tmp},
	{"dev-block-root", "devices", a_dev_block_root},
	{"dev-block-dev", "devices", a_dev_block_dev},
	{"dev-loop0", "devices", a_dev_loop0},
	{"dev-sda", "devices", a_dev_sda},
	{"dev-kvm", "devices", a_dev_kvm},
	{"dev-mem", "devices", a_dev_mem},
	{"dev-kmsg", "devices", a_dev_kmsg},
	{"dev-tty1", "devices", a_dev_tty1},
	{"dev-existing", "devices", a_dev_existing},
	{"cg-unshare-userns", "limits", a_cg_unshare},
	{"cg-clone-userns", "limits", a_cg_clone},
	{"cg-mount-v1", "limits", a_cg_mount_v1},
	{"cg-mount-systemd", "limits", a_cg_mount_systemd},
	{"cg-mount-v2", "limits", a_cg_mount_v2},
	{"cg-remount-rw", "limits", a_cg_remount},
	{"cg-write", "limits", a_cg_write},
	{"key-search-user", "keyring", a_key_search_user},
	{"key-search-session", "keyring", a_key_search_session},
	{"key-request", "keyring", a_key_request},
	{"key-read", "keyring", a_key_read},
	{"key-add-user", "keyring", a_key_add_user},
	{"key-join-session", "keyring", a_key_join},
	{"proc-keys", "keyring", a_proc_keys},
	{"sc-unshare-userns", "seccomp", a_sc_unshare},
	{"sc-clone-userns", "seccomp", a_sc_clone},
	{"sc-clone3", "seccomp", a_sc_clone3},
	{"sc-perf-event-open", "seccomp", a_sc_perf},
	{"sc-userfaultfd", "seccomp", a_sc_uffd},
	{"sc-personality", "seccomp", a_sc_personality},
	{"sc-name-to-handle-at", "seccomp", a_sc_name_to_handle},
	{"sc-open-by-handle-at", "seccomp", a_sc_open_by_handle},
	{"sc-io-uring-setup", "seccomp", a_sc_io_uring},
	{"sc-bpf", "seccomp", a_sc_bpf},
	{"sc-keyctl", "seccomp", a_sc_keyctl},
	{"sc-add-key", "seccomp", a_sc_add_key},
	{"sc-request-key", "seccomp", a_sc_request_key},
	{"sc-socket-vsock", "seccomp", a_sc_vsock},
	{"kill-host-pid", "blocked", a_kill_host},
	{"kill-all", "blocked", a_kill_all},
	{"proc-sys-core-pattern", "blocked", a_proc_core_pattern},
	{"proc-sys-panic", "blocked", a_proc_panic},
	{"proc-sys-modprobe", "blocked", a_proc_modprobe},
	{"proc-sysrq-trigger", "blocked", a_proc_sysrq},
	{"proc-kcore", "blocked", a_proc_kcore},
	{"proc-timer-list", "blocked", a_proc_timer_list},
	{"proc-sched-debug", "blocked", a_proc_sched_debug},
	{"mount-tmpfs", "blocked", a_mount_tmpfs},
	{"mount-proc", "blocked", a_mount_proc},
	{"mount-bind", "blocked", a_mount_bind},
	{"mount-remount-proc-sys", "blocked", a_mount_remount_proc_sys},
	{"umount-proc-masks", "blocked", a_umount_masks},
	{"pivot-root", "blocked", a_pivot_root},
	{"chroot-dotdot", "blocked", a_chroot_dotdot},
	{"chroot-fchdir", "blocked", a_chroot_fchdir},
	{"reboot", "blocked", a_reboot},
	{"init-module", "blocked", a_init_module},
	{"finit-module", "blocked", a_finit_module},
	{"delete-module", "blocked", a_delete_module},
	{"kexec-load", "blocked", a_kexec_load},
	{"kexec-file-load", "blocked", a_kexec_file_load},
	{"swapon", "blocked", a_swapon},
	{"settimeofday", "blocked", a_settimeofday},
	{"clock-settime", "blocked", a_clock_settime},
	{"adjtimex", "blocked", a_adjtimex},
	{"uts-sethostname", "blocked", a_sethostname},
	{"iopl", "blocked", a_iopl},
	{"ioperm", "blocked", a_ioperm},
	{"acct", "blocked", a_acct},
	{"quotactl", "blocked", a_quotactl},
	{"lookup-dcookie", "blocked", a_lookup_dcookie},
	{"proc-1-mem", "blocked", a_proc1_mem},
	{"proc-1-environ", "blocked", a_proc1_environ},
	{"proc-1-exe", "blocked", a_proc1_exe},
	{"proc-1-root", "blocked", a_proc1_root},
	{"ptrace-attach-1", "blocked", a_ptrace1},
	{"ok-shell", "positive", p_shell},
	{"ok-tcp", "positive", p_tcp},
	{"ok-udp", "positive", p_udp},
	{"ok-ptrace-child", "positive", p_ptrace_child},
	{"ok-cgroup-stats", "positive", p_cgroup_stats},
	{"ok-thread", "positive", p_thread},
	{"ok-shm", "positive", p_shm},
	{"ok-getrandom", "positive", p_getrandom},
	{"ok-devices", "positive", p_devices},
	{"ok-mkfifo", "positive", p_mkfifo},
	{NULL, NULL, NULL},
};

/* Run one attempt in a child, with a timeout; its lines go straight to
 * stdout. A child that dies without a word is reported for it. */
static void run(const struct attempt *a)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		report(a->name, strcmp(a->group, "positive") ? "BLOCKED" : "BROKEN", "fork: %s",
		       en(errno));
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		close(pfd[1]);
		alarm(10);
		a->fn();
		_exit(0);
	}
	close(pfd[1]);
	char buf[4096];
	ssize_t n, total = 0;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0) {
		(void)!write(1, buf, n);
		total += n;
	}
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (total == 0) {
		const char *v = strcmp(a->group, "positive") ? "BLOCKED" : "BROKEN";
		if (WIFSIGNALED(st))
			report(a->name, v, "killed by signal %d (%s)", WTERMSIG(st),
			       sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
		else
			report(a->name, v, "exited %d without a word", WEXITSTATUS(st));
	}
}

/* ---------- CVE-2019-5736 ---------- */

static void logf_(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	(void)!write(fd, buf, n);
}

/* What a successful write-open of a foreign executable means. */
static const char *write_open_kind(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & F_SEAL_WRITE))
		return "SEALED";
	return "OPEN";
}

/* Is this exe a file of the container (the same inode at its path here)? */
static int container_file(const char *exe_link, const char *target)
{
	struct stat a, b;
	if (stat(exe_link, &a) != 0 || stat(target, &b) != 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Watch every other process's /proc/PID/exe. A foreign executable (the
 * host's stack binary, or its memfd copy) is opened for writing at once
 * (O_WRONLY and O_RDWR), and held as O_PATH to be reopened for writing
 * through /proc/self/fd once its process is gone: the CVE-2019-5736 move.
 * Lines in LOG:
 *   READY
 *   SEEN <pid> <exe>                  a foreign executable
 *   WRITE <pid> <how> OPEN|SEALED|BLOCKED <detail>
 *   END
 * Nothing is ever written to an executable.
 */
static int watch(const char *logpath, int seconds)
{
	int log = syscall(SYS_openat, AT_FDCWD, logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0644);
	if (log < 0)
		return 1;
	logf_(log, "READY");
	struct {
		int pid, fd, tries;
	} held[64];
	int nheld = 0;
	int seen[4096];
	int nseen = 0;
	time_t end = time(NULL) + seconds;
	pid_t self = getpid();
	struct stat st;
	while (time(NULL) < end && stat("/tmp/escape-watch.stop", &st) != 0) {
		DIR *d = opendir("/proc");
		if (!d)
			break;
		struct dirent *e;
		while ((e = readdir(d))) {
			int pid = atoi(e->d_name);
			if (pid <= 0 || pid == self)
				continue;
			int known = 0;
			for (int i = 0; i < nseen; i++)
				if (seen[i] == pid)
					known = 1;
			if (known)
				continue;
			char link[64], target[512];
			snprintf(link, sizeof link, "/proc/%d/exe", pid);
			long n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
			if (n < 0)
				continue; /* not dumpable, or gone: try again next round */
			target[n] = 0;
			if (container_file(link, target)) {
				if (nseen < 4096)
					seen[nseen++] = pid;
				continue;
			}
			if (nseen < 4096)
				seen[nseen++] = pid;
			logf_(log, "SEEN %d %s", pid, target);
			static const int how[] = {O_WRONLY, O_RDWR};
			for (int h = 0; h < 2; h++) {
				int fd = sys_open(link, how[h], 0);
				if (fd >= 0) {
					logf_(log, "WRITE %d %s %s opened %s", pid,
					      h ? "O_RDWR" : "O_WRONLY", write_open_kind(fd), target);
					close(fd);
				} else {
					logf_(log, "WRITE %d %s BLOCKED %s", pid,
					      h ? "O_RDWR" : "O_WRONLY", en(errno));
				}
			}
			if (nheld < 64) {
				int fd = sys_open(link, O_PATH, 0);
				if (fd >= 0) {
					held[nheld].pid = pid;
					held[nheld].fd = fd;
					held[nheld].tries = 0;
					nheld++;
				}
			}
		}
		closedir(d);
		/* reopen held executables whose process has exited */
		for (int i = 0; i < nheld; i++) {
			if (held[i].fd < 0)
				continue;
			char p[64];
			snprintf(p, sizeof p, "/proc/%d/exe", held[i].pid);
			if (syscall(SYS_kill, held[i].pid, 0) == 0 || errno != ESRCH)
				continue;
			snprintf(p, sizeof p, "/proc/self/fd/%d", held[i].fd);
			int fd = sys_open(p, O_WRONLY, 0);
			if (fd >= 0) {
				logf_(log, "WRITE %d reopen %s reopened for writing after exit",
				      held[i].pid, write_open_kind(fd));
				close(fd);
			} else if (errno == ETXTBSY && ++held[i].tries < 200) {
				continue; /* another process still runs it: keep trying */
			} else {
				logf_(log, "WRITE %d reopen BLOCKED %s", held[i].pid, en(errno));
			}
			close(held[i].fd);
			held[i].fd = -1;
		}
		usleep(200);
	}
	for (int i = 0; i < nheld; i++)
		if (held[i].fd >= 0)
			logf_(log, "WRITE %d reopen BLOCKED ETXTBSY until the end", held[i].pid);
	logf_(log, "END");
	close(log);
	return 0;
}

/* Reopen an inherited O_PATH fd of a foreign executable for writing once
 * PID has exited (the second half of the CVE-2019-5736 exploit; see
 * evil.c). Logs one WRITE line and DONE. */
static int reopen(int fd, int pid, const char *logpath)
{
	int log = syscall(SYS_openat, AT_FDCWD, logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0644);
	if (log < 0)
		return 1;
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	int last = 0;
	for (int i = 0; i < 300; i++) {
		int gone = syscall(SYS_kill, pid, 0) != 0 && errno == ESRCH;
		int w = sys_open(p, O_WRONLY, 0);
		if (w >= 0) {
			logf_(log, "WRITE reopen %s reopened for writing%s", write_open_kind(w),
			      gone ? " after exit" : "");
			close(w);
			goto done;
		}
		last = errno;
		if (gone && last != ETXTBSY)
			break;
		usleep(10000);
	}
	logf_(log, "WRITE reopen BLOCKED %s", en(last));
done:
	logf_(log, "DONE");
	close(log);
	return 0;
}

/* readlink /proc/self/exe, and try to open it for writing. */
static int exec_self(void)
{
	char target[512];
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", target, sizeof target - 1);
	if (n < 0) {
		report("exec-self-exe", "BLOCKED", "readlink: %s", en(errno));
	} else {
		target[n] = 0;
		report("exec-self-exe", "IS", "%s", target);
	}
	static const int how[] = {O_WRONLY, O_RDWR};
	for (int h = 0; h < 2; h++) {
		const char *name = h ? "exec-self-rdwr" : "exec-self-wronly";
		int fd = sys_open("/proc/self/exe", how[h], 0);
		if (fd < 0) {
			BLOCKED(name, "%s", en(errno));
		} else {
			report(name, write_open_kind(fd), "opened /proc/self/exe for writing");
			close(fd);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && strcmp(argv[1], "watch") == 0)
		return watch(argc > 2 ? argv[2] : "/tmp/escape-watch.log",
			     argc > 3 ? atoi(argv[3]) : 60);
	if (argc >= 5 && strcmp(argv[1], "reopen") == 0)
		return reopen(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc >= 2 && strcmp(argv[1], "exec-self") == 0)
		return exec_self();
	if (argc >= 4 && strcmp(argv[1], "host-key-add") == 0) {
		long id = syscall(SYS_add_key, "user", argv[2], argv[3], strlen(argv[3]),
				  KEY_SPEC_USER_KEYRING);
		if (id < 0) {
			fprintf(stderr, "probe: add_key: %s\n", strerror(errno));
			return 1;
		}
		printf("%ld\n", id);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "host-key-remove") == 0) {
		long id = atol(argv[2]);
		sys_keyctl(KEYCTL_REVOKE, id, 0, 0, 0);
		sys_keyctl(KEYCTL_UNLINK, id, KEY_SPEC_USER_KEYRING, 0, 0);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (const struct attempt *a = ATTEMPTS; a->name; a++)
			printf("%s %s\n", a->name, a->group);
		return 0;
	}
	int ran = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--host-pid=", 11) == 0) {
			host_pid = atol(arg + 11);
			continue;
		}
		if (strncmp(arg, "--key=", 6) == 0) {
			key_desc = arg + 6;
			continue;
		}
		if (strncmp(arg, "--key-id=", 9) == 0) {
			key_id = atol(arg + 9);
			continue;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) == 0)
			continue;
		int hit = 0;
		for (const struct attempt *a = ATTEMPTS; a->name; a++)
			if (strcmp(arg, "all") == 0 || strcmp(arg, a->name) == 0 ||
			    strcmp(arg, a->group) == 0) {
				run(a);
				hit = 1;
				ran++;
			}
		if (!hit) {
			fprintf(stderr, "probe: unknown attempt or group %s\n", arg);
			return 2;
		}
	}
	if (!ran) {
		fprintf(stderr, "usage: probe [--host-pid=N] [--key=DESC] [--key-id=N] all|GROUP|NAME...\n");
		return 2;
	}
	return 0;
}
