/* The --save-core writer; see snapshot.h.
 *
 * File layout: ELF header, program headers (PT_NOTE, then one PT_LOAD per
 * mapping), the notes, then from the next page boundary the dumped
 * mappings one after the other, each at a page-aligned offset.  Zero and
 * unreadable pages are skipped with pwrite at later offsets, so they are
 * holes, and the final ftruncate gives the file its full size. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "live.h"
#include "snapshot.h"

/* The notes are x86-64's (user_regs_struct, the FPU and XSAVE state), as
 * live reads are (target_live.c); elsewhere --pid is refused before a
 * snapshot could be asked for. */
#if defined(__x86_64__)

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define PAGE 4096u
#define PIECE (1u << 20)            /* bytes read from the process at a time */
#define XSTATE_MAX 16384u           /* AMX state is about 11 KiB */

_Static_assert(sizeof(struct user_regs_struct) == sizeof(elf_gregset_t),
	       "NT_PRSTATUS registers are user_regs_struct");

struct buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void pad4(struct buf *b)
{
	static const unsigned char zero[4];

	if (b->len % 4)
		put(b, zero, 4 - b->len % 4);
}

/* Notes in core files are 4-byte aligned (what gdb, Delve and mapscan
 * expect). */
static void note(struct buf *b, const char *name, uint32_t type, const void *desc, size_t n)
{
	uint32_t h[3] = { (uint32_t)strlen(name) + 1, (uint32_t)n, type };

	put(b, h, sizeof(h));
	put(b, name, strlen(name) + 1);
	pad4(b);
	put(b, desc, n);
	pad4(b);
}

static uint64_t hex_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[k > 0 ? k : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static void prpsinfo_note(struct buf *b, const struct live_proc *p)
{
	static const char states[] = "RSDTZW";
	struct elf_prpsinfo ps;
	char path[64], args[ELF_PRARGSZ + 1];
	const char *s = strchr(states, p->state);
	int fd;
	ssize_t k;

	memset(&ps, 0, sizeof(ps));
	ps.pr_sname = p->state;
	ps.pr_state = s ? (char)(s - states) : 0;
	ps.pr_zomb = p->state == 'Z';
	ps.pr_nice = (char)p->nice;
	ps.pr_uid = p->uid;
	ps.pr_gid = p->gid;
	ps.pr_pid = p->pid;
	ps.pr_ppid = p->ppid;
	ps.pr_pgrp = p->pgrp;
	ps.pr_sid = p->sid;
	memcpy(ps.pr_fname, p->comm, strnlen(p->comm, sizeof(ps.pr_fname)));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	k = fd < 0 ? 0 : read(fd, args, ELF_PRARGSZ);
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < k; i++)
		ps.pr_psargs[i] = args[i] ? args[i] : ' ';
	if (k > 0)
		ps.pr_psargs[k < ELF_PRARGSZ ? k - 1 : ELF_PRARGSZ - 1] = '\0';
	note(b, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
}

static void file_note(struct buf *b, const struct live_range *r, size_t n)
{
	struct buf d = { 0 };
	uint64_t count = 0, ps = PAGE;

	for (size_t i = 0; i < n; i++)
		count += r[i].name[0] == '/';
	put(&d, &count, 8);
	put(&d, &ps, 8);
	for (size_t i = 0; i < n; i++) {
		if (r[i].name[0] != '/')
			continue;
		uint64_t e[3] = { r[i].start, r[i].end, r[i].offset / PAGE };
		put(&d, e, sizeof(e));
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].name[0] == '/')
			put(&d, r[i].name, strlen(r[i].name) + 1);
	if (d.oom)
		b->oom = true;
	else
		note(b, "CORE", NT_FILE, d.p, d.len);
	free(d.p);
}

/* One thread's notes; the first thread's (the main thread's, which
 * live_held lists first) carry the process-wide ones too. */
static void thread_notes(struct buf *b, pid_t tid, bool first, const struct live_proc *p,
			 const struct live_range *r, size_t nr,
			 const unsigned char *auxv, size_t nauxv)
{
	struct elf_prstatus st;
	struct user_regs_struct regs;
	struct user_fpregs_struct fp;
	char path[64], status[4096];
	static unsigned char xstate[XSTATE_MAX];
	struct iovec iov = { xstate, sizeof(xstate) };
	bool have_fp = ptrace(PTRACE_GETFPREGS, tid, NULL, &fp) == 0;

	memset(&st, 0, sizeof(st));
	memset(&regs, 0, sizeof(regs));
	ptrace(PTRACE_GETREGS, tid, NULL, &regs);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", p->pid, tid);
	read_text(path, status, sizeof(status));
	st.pr_sigpend = hex_field(status, "\nSigPnd:");
	st.pr_sighold = hex_field(status, "\nSigBlk:");
	st.pr_pid = tid;
	st.pr_ppid = p->ppid;
	st.pr_pgrp = p->pgrp;
	st.pr_sid = p->sid;
	memcpy(&st.pr_reg, &regs, sizeof(regs));
	st.pr_fpvalid = have_fp;
	note(b, "CORE", NT_PRSTATUS, &st, sizeof(st));
	if (first) {
		prpsinfo_note(b, p);
		note(b, "CORE", NT_AUXV, auxv, nauxv);
		file_note(b, r, nr);
	}
	if (have_fp)
		note(b, "CORE", NT_FPREGSET, &fp, sizeof(fp));
	if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) == 0)
		note(b, "LINUX", NT_X86_XSTATE, xstate, iov.iov_len);
}

/* Whether a mapping's bytes go into the file. */
static bool dumped(const struct live_range *r)
{
	size_t n = strlen(r->name);
	bool deleted = n > 10 && !strcmp(r->name + n - 10, " (deleted)");

	if (r->perms[0] != 'r')
		return false;
	if (!strcmp(r->name, "[vvar]") || !strcmp(r->name, "[vvar_vclock]"))
		return false; /* kernel data pages: not readable this way */
	/* A shared mapping of a file that still exists: the file has the
	 * bytes (and may be huge).  Shared memory without a file stays. */
	if (r->perms[3] == 's' && r->name[0] == '/' && !deleted)
		return false;
	return true;
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const unsigned char *c = p;

	while (n) {
		ssize_t k = pwrite(fd, c, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Copy one mapping to the file at off.  Returns 0, or -1 with errno
 * (ESRCH: the process vanished; other: writing failed). */
static int dump_range(int fd, struct live_mem *m, const struct live_range *r, uint64_t off,
		      unsigned char *buf)
{
	static const unsigned char zero[PAGE];
	bool ok[PIECE / PAGE];

	for (uint64_t a = r->start; a < r->end; a += PIECE) {
		uint64_t len = r->end - a < PIECE ? r->end - a : PIECE;
		ssize_t k = live_mem_read(m, a, buf, len);
		uint64_t good, np = len / PAGE;

		if (k < 0 && errno == ESRCH)
			return -1;
		good = k > 0 ? (uint64_t)k / PAGE : 0;
		for (uint64_t i = 0; i < np; i++) {
			ok[i] = i < good;
			if (!ok[i]) /* from the first page that failed: page by page */
				ok[i] = live_mem_read(m, a + i * PAGE, buf + i * PAGE, PAGE) == PAGE;
			if (ok[i] && !memcmp(buf + i * PAGE, zero, PAGE))
				ok[i] = false; /* a hole reads as zeros */
		}
		for (uint64_t i = 0; i < np;) {
			uint64_t j = i;

			if (!ok[i]) {
				i++;
				continue;
			}
			while (j < np && ok[j])
				j++;
			if (write_all(fd, buf + i * PAGE, (j - i) * PAGE, off + (a - r->start) + i * PAGE))
				return -1;
			i = j;
		}
	}
	return 0;
}

int snapshot_write(int pid, const char *path, struct ms_error *err)
{
	struct live_proc proc;
	struct live_range *r = NULL;
	struct live_mem mem;
	struct buf notes = { 0 };
	unsigned char auxv[8192], *piece = NULL;
	size_t nr = 0, nheld, nauxv = 0;
	const pid_t *held = live_held(&nheld);
	int fd = -1, rc = -1;
	char apath[64];

	live_mem_init(&mem, pid);
	if (!nheld)
		return ms_err(err, MS_EINTERNAL, "process %d is not stopped; cannot save a "
			      "consistent core", pid);
	if (live_proc_read(pid, &proc, err) < 0 || live_ranges_read(pid, &r, &nr, err) < 0)
		return -1;
	snprintf(apath, sizeof(apath), "/proc/%d/auxv", pid);
	fd = open(apath, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k = read(fd, auxv, sizeof(auxv));
		nauxv = k > 0 ? (size_t)k : 0;
		close(fd);
	}

	for (size_t i = 0; i < nheld; i++)
		thread_notes(&notes, held[i], i == 0, &proc, r, nr, auxv, nauxv);
	piece = malloc(PIECE);
	if (notes.oom || !piece) {
		ms_err(err, MS_EINTERNAL, "out of memory writing %s", path);
		goto out;
	}

	/* Layout. */
	uint64_t phnum = 1 + nr;
	bool xnum = phnum >= PN_XNUM;
	uint64_t notes_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	uint64_t sh_off = (notes_off + notes.len + 7) & ~7ull;
	uint64_t data_off = (sh_off + (xnum ? sizeof(Elf64_Shdr) : 0) + PAGE - 1) & ~(uint64_t)(PAGE - 1);

	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = xnum ? PN_XNUM : (Elf64_Half)phnum;
	if (xnum) {
		eh.e_shoff = sh_off;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
	}

	Elf64_Phdr *ph = calloc(phnum, sizeof(*ph));
	if (!ph) {
		ms_err(err, MS_EINTERNAL, "out of memory writing %s", path);
		goto out;
	}
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = notes_off;
	ph[0].p_filesz = notes.len;
	ph[0].p_align = 4;
	uint64_t cur = data_off;
	for (size_t i = 0; i < nr; i++) {
		Elf64_Phdr *p = &ph[1 + i];

		p->p_type = PT_LOAD;
		p->p_vaddr = r[i].start;
		p->p_memsz = r[i].end - r[i].start;
		p->p_flags = (r[i].perms[0] == 'r' ? PF_R : 0) | (r[i].perms[1] == 'w' ? PF_W : 0) |
			     (r[i].perms[2] == 'x' ? PF_X : 0);
		p->p_align = PAGE;
		p->p_offset = cur;
		if (dumped(&r[i])) {
			p->p_filesz = p->p_memsz;
			cur += p->p_memsz;
		}
	}

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ms_err(err, MS_EOPEN, "%s: cannot create the core file: %s", path, strerror(errno));
		free(ph);
		goto out;
	}
	live_set_cleanup_path(path);
	int werr = 0;
	if (write_all(fd, &eh, sizeof(eh), 0) || write_all(fd, ph, phnum * sizeof(*ph), eh.e_phoff) ||
	    write_all(fd, notes.p, notes.len, notes_off))
		werr = errno;
	if (!werr && xnum) {
		Elf64_Shdr sh;
		memset(&sh, 0, sizeof(sh));
		sh.sh_size = 1;
		sh.sh_info = (Elf64_Word)phnum;
		if (write_all(fd, &sh, sizeof(sh), sh_off))
			werr = errno;
	}
	for (size_t i = 0; i < nr && !werr; i++) {
		if (!ph[1 + i].p_filesz)
			continue;
		if (dump_range(fd, &mem, &r[i], ph[1 + i].p_offset, piece) < 0) {
			werr = errno;
			if (werr == ESRCH) {
				ms_err(err, MS_EPROCESS, "process %d exited while its core was being "
				       "written to %s", pid, path);
				werr = -1;
			}
		}
	}
	free(ph);
	if (!werr && ftruncate(fd, (off_t)cur) < 0)
		werr = errno;
	if (close(fd) < 0 && !werr)
		werr = errno;
	fd = -1;
	live_set_cleanup_path(NULL);
	if (werr) {
		if (werr > 0)
			ms_err(err, MS_EOPEN, "%s: cannot write the core file: %s", path, strerror(werr));
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	live_mem_close(&mem);
	live_ranges_free(r, nr);
	free(notes.p);
	free(piece);
	return rc;
}

#else

int snapshot_write(int pid, const char *path, struct ms_error *err)
{
	return ms_err(err, MS_EFORMAT, "%s: --save-core writes cores of x86-64 processes only "
		      "(process %d)", path, pid);
}

#endif
