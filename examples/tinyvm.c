/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* tinyvm — a KVM virtual machine whose RAM is vmmem memory built from a
 * config file.
 *
 * The VMM side of vmmem, end to end:
 *   - the guest RAM is a vmmem space made from --config FILE (the shipped
 *     examples/tinyvm-{mmap,memfd,hugetlbfs}.conf); every region becomes a
 *     KVM memory slot at the host address vmmem mapped it at;
 *   - the VMM is the boot loader: it writes the guest program, its strings
 *     and the data to checksum through the consumer API;
 *   - the guest writes a message, a pattern across the boundary of two
 *     guest-adjacent regions and a checksum, prints over an emulated serial
 *     port (0x3f8), asks a ring device for a reply, asks for memory to be
 *     hot-added, writes into it, and halts;
 *   - device models run in the VMM (the ring device, the hotplug mailbox)
 *     and write guest memory through vmmem, so vmmem's dirty tracking sees
 *     their writes; KVM's dirty log sees the guest's. Their union is what a
 *     migration would copy;
 *   - with --backend the ring device is examples/backend, another process
 *     that receives the memory with vmmem_memory_send().
 * Every result is read back through the consumer API and checked; the
 * last line is the verdict, and the exit status is 0 only on PASS.
 *
 * Usage: tinyvm --config FILE [--backend[=PATH]]
 * Exit status: 0 pass, 1 a check failed or an error, 2 usage (also
 * --backend with memory that cannot be shared), 77 /dev/kvm is missing or
 * unusable (a test skips).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <vmmem/vmmem.h>

#include "tinyvm-ring.h"

/* The guest's memory map. The guest program below has these addresses
 * built in; the shipped configs back them (low [0, 2M), high [2M, 4M),
 * data [8M, 10M)) and tinyvm checks that a user's config does too. */
#define GDT_ADDR     0x0800   /* three descriptors, for the record (see vcpu_init) */
#define CODE_ADDR    0x1000   /* the guest program */
#define STR_ADDR     0x2000   /* the loader's strings, one per 64-byte slot */
#define MSG_BUF      0x3000   /* the guest copies its message here */
#define RESULT_ADDR  0x4000   /* the guest stores its checksum here */
/*      RING_ADDR    0x6000      the ring, in tinyvm-ring.h */
#define STACK_TOP    0x8000   /* the stack: the page below */
#define BOUNDARY     0x200000 /* where low ends and high begins */
#define PATTERN_LEN  64       /* the pattern: [BOUNDARY - 32, BOUNDARY + 32) */
#define DATA_ADDR    0x800000 /* the loader's data, checksummed by the guest */
#define DATA_DWORDS  1024
#define MAILBOX_ADDR 0x801000 /* the hotplug controller's status and address */

/* I/O ports the guest uses. Anything else is an unexpected exit. */
#define PORT_COM1         0x3f8 /* the serial port's data register */
#define PORT_RING_KICK    0x510 /* "a request is in the ring" */
#define PORT_HOTPLUG      0x511 /* "hot-add memory now; I will poll the mailbox" */

/* The mailbox, written by the hotplug controller (a device model). */
#define MAILBOX_ADDED  1u  /* +4: the new region's guest address */
#define MAILBOX_FAILED 2u
/* The guest polls it this many rounds at most, and stores the rounds left
 * at RESULT_ADDR + 4: the polls it made show that it ran meanwhile. */
#define MAILBOX_POLLS  0x100000u

#define GUEST_TIMEOUT_S 30
#define MAX_SLOTS 32
#define PAGE 4096u

/* The strings the loader places at STR_ADDR, 64 bytes apart (slot k at
 * STR_ADDR + 64 k, as the guest program addresses them). */
enum { S_HELLO, S_SUM, S_REPLY, S_DIMM, S_DIMM_OK, S_DIMM_FAIL, S_BYE, S_REQ, S_DIMM_MSG,
       N_STRINGS };
static const char *const strings[N_STRINGS] = {
	[S_HELLO] = "hello from the tinyvm guest: my RAM is vmmem memory\n",
	[S_SUM] = "checksum 0x",
	[S_REPLY] = "\nring reply: ",
	[S_DIMM] = "\ndimm at 0x",
	[S_DIMM_OK] = ": written\n",
	[S_DIMM_FAIL] = "\ndimm: not added\n",
	[S_BYE] = "halting\n",
	[S_REQ] = "ping #1",
	[S_DIMM_MSG] = "the guest wrote this into memory hot-added while it ran",
};

/* The guest program: 32-bit protected mode, flat segments, no paging, so
 * a guest address is a physical one and the 16 MiB of the dimm are
 * reachable (real mode stops at 1 MiB + 64 KiB, and huge-page regions
 * cannot put a region boundary below it). tinyvm enters protected mode
 * for the guest by loading the segment registers with KVM_SET_SREGS, as
 * a boot loader hands Linux a flat 32-bit environment, so the program
 * has no mode switch of its own.
 *
 * Assembled with `as --32` and linked at CODE_ADDR (ld -m elf_i386
 * -Ttext=0x1000); objdump's listing is beside each instruction. Symbols:
 * 0x2000 + 64 k is string slot k, 0x3000 MSG_BUF, 0x4000 RESULT_ADDR,
 * 0x6000 the ring, 0x1fffe0 BOUNDARY - 32, 0x800000 DATA_ADDR, 0x801000
 * the mailbox, 0x100000 MAILBOX_POLLS, 0x3f8 COM1, 0x510 / 0x511 the ring
 * kick and hotplug ports.
 */
static const uint8_t guest_code[] = {
	/* _start:  the message: copied from string slot 0 into MSG_BUF, printed from there */
	0xbc, 0x00, 0x80, 0x00, 0x00,           /* 1000  mov $0x8000,%esp */
	0xfc,                                   /* 1005  cld */
	0xbe, 0x00, 0x20, 0x00, 0x00,           /* 1006  mov $0x2000,%esi */
	0xbf, 0x00, 0x30, 0x00, 0x00,           /* 100b  mov $0x3000,%edi */
	0xb9, 0x40, 0x00, 0x00, 0x00,           /* 1010  mov $0x40,%ecx */
	0xf3, 0xa4,                             /* 1015  rep movsb %ds:(%esi),%es:(%edi) */
	0xbe, 0x00, 0x30, 0x00, 0x00,           /* 1017  mov $0x3000,%esi */
	0xe8, 0xe7, 0x00, 0x00, 0x00,           /* 101c  call 1108 <puts> */
	0xbf, 0xe0, 0xff, 0x1f, 0x00,           /* 1021  mov $0x1fffe0,%edi */
	0xb9, 0x40, 0x00, 0x00, 0x00,           /* 1026  mov $0x40,%ecx */
	0xb0, 0x11,                             /* 102b  mov $0x11,%al */
	/* pattern:  64 bytes 0x11 + 7 i across BOUNDARY: 32 in low, 32 in high */
	0xaa,                                   /* 102d  stos %al,%es:(%edi) */
	0x04, 0x07,                             /* 102e  add $0x7,%al */
	0xe2, 0xfb,                             /* 1030  loop 102d <pattern> */
	0xbe, 0x00, 0x00, 0x80, 0x00,           /* 1032  mov $0x800000,%esi */
	0xb9, 0x00, 0x04, 0x00, 0x00,           /* 1037  mov $0x400,%ecx */
	0x31, 0xdb,                             /* 103c  xor %ebx,%ebx */
	/* sum:  checksum of the loader's 1024 dwords: rol 5, xor; stored, printed */
	0xad,                                   /* 103e  lods %ds:(%esi),%eax */
	0xc1, 0xc3, 0x05,                       /* 103f  rol $0x5,%ebx */
	0x31, 0xc3,                             /* 1042  xor %eax,%ebx */
	0xe2, 0xf8,                             /* 1044  loop 103e <sum> */
	0x89, 0x1d, 0x00, 0x40, 0x00, 0x00,     /* 1046  mov %ebx,0x4000 */
	0xbe, 0x40, 0x20, 0x00, 0x00,           /* 104c  mov $0x2040,%esi */
	0xe8, 0xb2, 0x00, 0x00, 0x00,           /* 1051  call 1108 <puts> */
	0x89, 0xd8,                             /* 1056  mov %ebx,%eax */
	0xe8, 0xb8, 0x00, 0x00, 0x00,           /* 1058  call 1115 <puthex> */
	/* the ring request: slot 7 into the ring, req_seq = 1, kick; print the reply */
	0xbe, 0xc0, 0x21, 0x00, 0x00,           /* 105d  mov $0x21c0,%esi */
	0xbf, 0x08, 0x60, 0x00, 0x00,           /* 1062  mov $0x6008,%edi */
	0xb9, 0x38, 0x00, 0x00, 0x00,           /* 1067  mov $0x38,%ecx */
	0xf3, 0xa4,                             /* 106c  rep movsb %ds:(%esi),%es:(%edi) */
	0xc7, 0x05, 0x00, 0x60, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,/* 106e  movl $0x1,0x6000 */
	0x66, 0xba, 0x10, 0x05,                 /* 1078  mov $0x510,%dx */
	0xee,                                   /* 107c  out %al,(%dx) */
	0xbe, 0x80, 0x20, 0x00, 0x00,           /* 107d  mov $0x2080,%esi */
	0xe8, 0x81, 0x00, 0x00, 0x00,           /* 1082  call 1108 <puts> */
	0x83, 0x3d, 0x04, 0x60, 0x00, 0x00, 0x01,/* 1087  cmpl $0x1,0x6004 */
	0x75, 0x0a,                             /* 108e  jne 109a <hotplug> */
	0xbe, 0x40, 0x60, 0x00, 0x00,           /* 1090  mov $0x6040,%esi */
	0xe8, 0x6e, 0x00, 0x00, 0x00,           /* 1095  call 1108 <puts> */
	/* hotplug:  ask for memory, then poll the mailbox (bounded: ~1M rounds) */
	0x66, 0xba, 0x11, 0x05,                 /* 109a  mov $0x511,%dx */
	0xee,                                   /* 109e  out %al,(%dx) */
	0xb9, 0x00, 0x00, 0x10, 0x00,           /* 109f  mov $0x100000,%ecx */
	/* wait: */
	0xf3, 0x90,                             /* 10a4  pause */
	0x83, 0x3d, 0x00, 0x10, 0x80, 0x00, 0x00,/* 10a6  cmpl $0x0,0x801000 */
	0x75, 0x02,                             /* 10ad  jne 10b1 <added> */
	0xe2, 0xf3,                             /* 10af  loop 10a4 <wait> */
	/* added:  rounds left to RESULT_ADDR + 4; if added: slot 8 to the dimm, print where */
	0x89, 0x0d, 0x04, 0x40, 0x00, 0x00,     /* 10b1  mov %ecx,0x4004 */
	0x83, 0x3d, 0x00, 0x10, 0x80, 0x00, 0x01,/* 10b7  cmpl $0x1,0x801000 */
	0x75, 0x31,                             /* 10be  jne 10f1 <no_dimm> */
	0x8b, 0x3d, 0x04, 0x10, 0x80, 0x00,     /* 10c0  mov 0x801004,%edi */
	0x89, 0xfb,                             /* 10c6  mov %edi,%ebx */
	0xbe, 0x00, 0x22, 0x00, 0x00,           /* 10c8  mov $0x2200,%esi */
	0xb9, 0x40, 0x00, 0x00, 0x00,           /* 10cd  mov $0x40,%ecx */
	0xf3, 0xa4,                             /* 10d2  rep movsb %ds:(%esi),%es:(%edi) */
	0xbe, 0xc0, 0x20, 0x00, 0x00,           /* 10d4  mov $0x20c0,%esi */
	0xe8, 0x2a, 0x00, 0x00, 0x00,           /* 10d9  call 1108 <puts> */
	0x89, 0xd8,                             /* 10de  mov %ebx,%eax */
	0xe8, 0x30, 0x00, 0x00, 0x00,           /* 10e0  call 1115 <puthex> */
	0xbe, 0x00, 0x21, 0x00, 0x00,           /* 10e5  mov $0x2100,%esi */
	0xe8, 0x19, 0x00, 0x00, 0x00,           /* 10ea  call 1108 <puts> */
	0xeb, 0x0a,                             /* 10ef  jmp 10fb <bye> */
	/* no_dimm: */
	0xbe, 0x40, 0x21, 0x00, 0x00,           /* 10f1  mov $0x2140,%esi */
	0xe8, 0x0d, 0x00, 0x00, 0x00,           /* 10f6  call 1108 <puts> */
	/* bye: */
	0xbe, 0x80, 0x21, 0x00, 0x00,           /* 10fb  mov $0x2180,%esi */
	0xe8, 0x03, 0x00, 0x00, 0x00,           /* 1100  call 1108 <puts> */
	/* halt: */
	0xf4,                                   /* 1105  hlt */
	0xeb, 0xfd,                             /* 1106  jmp 1105 <halt> */
	/* puts:  print the NUL-terminated string at esi to COM1 */
	0x66, 0xba, 0xf8, 0x03,                 /* 1108  mov $0x3f8,%dx */
	/* puts_next: */
	0xac,                                   /* 110c  lods %ds:(%esi),%al */
	0x84, 0xc0,                             /* 110d  test %al,%al */
	0x74, 0x03,                             /* 110f  je 1114 <puts_done> */
	0xee,                                   /* 1111  out %al,(%dx) */
	0xeb, 0xf8,                             /* 1112  jmp 110c <puts_next> */
	/* puts_done: */
	0xc3,                                   /* 1114  ret */
	/* puthex:  print eax as 8 hex digits (ebx, ecx, dx clobbered) */
	0x89, 0xc3,                             /* 1115  mov %eax,%ebx */
	0xb9, 0x08, 0x00, 0x00, 0x00,           /* 1117  mov $0x8,%ecx */
	0x66, 0xba, 0xf8, 0x03,                 /* 111c  mov $0x3f8,%dx */
	/* puthex_next: */
	0xc1, 0xc3, 0x04,                       /* 1120  rol $0x4,%ebx */
	0x88, 0xd8,                             /* 1123  mov %bl,%al */
	0x24, 0x0f,                             /* 1125  and $0xf,%al */
	0x04, 0x30,                             /* 1127  add $0x30,%al */
	0x3c, 0x39,                             /* 1129  cmp $0x39,%al */
	0x76, 0x02,                             /* 112b  jbe 112f <puthex_out> */
	0x04, 0x27,                             /* 112d  add $0x27,%al */
	/* puthex_out: */
	0xee,                                   /* 112f  out %al,(%dx) */
	0xe2, 0xee,                             /* 1130  loop 1120 <puthex_next> */
	0xc3,                                   /* 1132  ret */
};

/* Every KVM slot tinyvm registered: one per vmmem region. */
struct slot {
	uint32_t id;
	uint64_t start, size;
	char name[64];
};

struct vm {
	const char *config_path;
	vmmem_config_t *config;
	vmmem_space_t *space;
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;

	struct slot slots[MAX_SLOTS];
	unsigned n_slots;
	pthread_mutex_t slots_lock; /* the hotplug thread adds a slot while the vCPU runs */

	/* The hotplug = true region of the config, added on the guest's request. */
	const char *dimm_name;
	uint64_t dimm_start, dimm_size;
	pthread_t hotplug_thread;
	bool hotplug_started;
	char hotplug_error[512];

	/* --backend: the socket to examples/backend and its pid. */
	int backend_sock;
	pid_t backend_pid;
	char ring_error[512];

	GString *serial;
	bool serial_bol;
	uint32_t data_sum;

	unsigned checks, failed;
};

static volatile sig_atomic_t timed_out;

static void
on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* Errors that end the run before a verdict can be given. */
static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2)
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tinyvm: FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	exit(1);
}

/* KVM is missing or refuses us: not a failure of tinyvm, a reason to skip. */
static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2)
skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tinyvm: SKIP: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	exit(77);
}

static void G_GNUC_PRINTF(3, 4)
check(struct vm *vm, bool ok, const char *fmt, ...)
{
	va_list ap;

	vm->checks++;
	if (!ok)
		vm->failed++;
	va_start(ap, fmt);
	printf("check %2u: %s - ", vm->checks, ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* ---- KVM ------------------------------------------------------------------ */

static void
kvm_open(struct vm *vm)
{
	int api, mmap_size;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		skip("cannot open /dev/kvm: %s (no KVM here, or no permission)", strerror(errno));
	api = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
	if (api < 0)
		skip("/dev/kvm: KVM_GET_API_VERSION: %s (not a KVM device?)", strerror(errno));
	if (api != KVM_API_VERSION)
		skip("/dev/kvm: KVM_GET_API_VERSION gives %d, tinyvm speaks %d", api,
		     KVM_API_VERSION);
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
		skip("/dev/kvm: no KVM_CAP_USER_MEMORY");
	vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->vm < 0)
		skip("/dev/kvm: KVM_CREATE_VM: %s", strerror(errno));
	/* Intel VMX needs three pages for a real-mode TSS somewhere in guest
	 * physical space, even for a guest that never uses one; put them
	 * out of the way, below 4 GiB and above any memory tinyvm maps. */
	if (ioctl(vm->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		skip("/dev/kvm: KVM_SET_TSS_ADDR: %s", strerror(errno));
	vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		skip("/dev/kvm: KVM_CREATE_VCPU: %s", strerror(errno));
	mmap_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		skip("/dev/kvm: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		skip("/dev/kvm: mmap of the vCPU's kvm_run: %s", strerror(errno));
}

/* Registers a vmmem region as the next KVM slot, at the host address vmmem
 * mapped it at, with dirty logging on: KVM then logs the guest's writes
 * (and only those: the VMM's writes through the host mapping bypass KVM,
 * which is why vmmem logs them). Safe while the vCPU runs. */
static bool
kvm_add_slot(struct vm *vm, const vmmem_region_t *r, char *why, size_t why_size)
{
	struct kvm_userspace_memory_region kr = { 0 };
	bool ok = false;

	pthread_mutex_lock(&vm->slots_lock);
	if (vm->n_slots == MAX_SLOTS) {
		snprintf(why, why_size, "region '%s': tinyvm has room for %d KVM slots",
			 vmmem_region_name(r), MAX_SLOTS);
		goto out;
	}
	kr.slot = vm->n_slots;
	kr.flags = KVM_MEM_LOG_DIRTY_PAGES;
	kr.guest_phys_addr = vmmem_region_start(r).raw;
	kr.memory_size = vmmem_region_size(r);
	kr.userspace_addr = (uintptr_t)vmmem_region_host(r);
	if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &kr) < 0) {
		snprintf(why, why_size,
			 "region '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") at host %p: "
			 "KVM_SET_USER_MEMORY_REGION slot %u: %s",
			 vmmem_region_name(r), (uint64_t)kr.guest_phys_addr,
			 (uint64_t)(kr.guest_phys_addr + kr.memory_size), vmmem_region_host(r),
			 kr.slot, strerror(errno));
		goto out;
	}
	vm->slots[vm->n_slots] = (struct slot){ kr.slot, kr.guest_phys_addr, kr.memory_size, "" };
	g_strlcpy(vm->slots[vm->n_slots].name, vmmem_region_name(r),
		  sizeof(vm->slots[vm->n_slots].name));
	vm->n_slots++;
	ok = true;
out:
	pthread_mutex_unlock(&vm->slots_lock);
	return ok;
}

/* 32-bit protected mode with flat 4 GiB code and data segments, loaded
 * straight into the segment registers' hidden parts: what the guest's
 * own lgdt and far jump would have produced. The GDT the loader wrote at
 * GDT_ADDR holds the same descriptors, so a segment reload would keep
 * them. No paging: guest virtual = guest physical. */
static void
vcpu_init(struct vm *vm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x08,
				    .type = 0xb, /* execute/read, accessed */
				    .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 0x3; /* read/write, accessed */
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = GDT_ADDR;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr0 |= 1; /* PE */
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS: %s", strerror(errno));
	regs.rip = CODE_ADDR;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2; /* bit 1 is always set; interrupts off */
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS: %s", strerror(errno));
}

/* ---- memory: the space, the slots, the loader ------------------------------ */

static void
memory_build(struct vm *vm)
{
	const vmmem_region_spec_t *specs;
	const vmmem_memory_t *m;
	GError *err = NULL;
	size_t n;
	char why[512];

	vm->config = vmmem_config_load(vm->config_path, &err);
	if (!vm->config)
		die("%s", err->message);
	vm->space = vmmem_config_new_space(vm->config, NULL, &err);
	if (!vm->space)
		die("%s", err->message);

	/* The first hotplug = true region is the dimm the guest asks for. */
	specs = vmmem_config_regions(vm->config, &n);
	for (size_t i = 0; i < n && !vm->dimm_name; i++)
		if (vmmem_config_region_hotplug(vm->config, i)) {
			vm->dimm_name = specs[i].name;
			vm->dimm_start = specs[i].start.raw;
			vm->dimm_size = specs[i].size;
		}
	if (!vm->dimm_name)
		die("%s: no region has hotplug = true: the guest asks for one to be added "
		    "while it runs", vm->config_path);
	if (vm->dimm_start + vm->dimm_size > UINT64_C(1) << 32)
		die("%s: [region %s] ends past 4 GiB, out of reach of the 32-bit guest",
		    vm->config_path, vm->dimm_name);

	m = vmmem_space_get(vm->space);
	/* What the guest program addresses must be backed, and its pattern
	 * must cross from one region into another. */
	static const struct { uint64_t addr, len; const char *what; } needs[] = {
		{ 0, STACK_TOP, "code, strings, results, ring and stack" },
		{ BOUNDARY - PATTERN_LEN / 2, PATTERN_LEN, "the pattern across two regions" },
		{ DATA_ADDR, MAILBOX_ADDR + 8 - DATA_ADDR, "the data and the hotplug mailbox" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(needs); i++)
		if (!vmmem_memory_check_range(m, vmmem_guest_addr(needs[i].addr), needs[i].len))
			die("%s: the guest program needs [0x%" PRIx64 ", 0x%" PRIx64
			    ") backed (%s); the shipped configs show a layout that works",
			    vm->config_path, needs[i].addr, needs[i].addr + needs[i].len,
			    needs[i].what);
	if (vmmem_memory_to_region(m, vmmem_guest_addr(BOUNDARY - 1), NULL) ==
	    vmmem_memory_to_region(m, vmmem_guest_addr(BOUNDARY), NULL))
		die("%s: 0x%x must be the boundary between two guest-adjacent regions: the "
		    "guest writes a pattern across it", vm->config_path, BOUNDARY);

	for (size_t i = 0; i < vmmem_memory_num_regions(m); i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);

		if (!kvm_add_slot(vm, r, why, sizeof(why)))
			die("%s: %s", vm->config_path, why);
		printf("tinyvm: slot %u: region '%s' [0x%08" PRIx64 ", 0x%08" PRIx64
		       ") page %" PRIu64 "K%s at host %p\n",
		       vm->n_slots - 1, vmmem_region_name(r), vmmem_region_start(r).raw,
		       vmmem_region_start(r).raw + vmmem_region_size(r),
		       vmmem_region_page_size(r) >> 10,
		       vmmem_region_flags(r) & VMMEM_REGION_SHARED ? " shared" : " private",
		       vmmem_region_host(r));
	}
	vmmem_space_put(vm->space, m);
	printf("tinyvm: region '%s' [0x%08" PRIx64 ", 0x%08" PRIx64 ") waits for the guest "
	       "to ask for it (hotplug = true)\n",
	       vm->dimm_name, vm->dimm_start, vm->dimm_start + vm->dimm_size);
}

/* The boot loader: everything the guest finds at start is written through
 * the consumer API, like any other consumer would. */
static void
memory_load(struct vm *vm)
{
	static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffff, 0x00cf92000000ffff };
	const vmmem_memory_t *m = vmmem_space_get(vm->space);
	char slot[64];
	uint32_t data[DATA_DWORDS], x = 0x2545f491, zero[2] = { 0, 0 };
	GError *err = NULL;
	bool ok = true;

	for (size_t i = 0; i < DATA_DWORDS; i++) {
		/* xorshift32: data the guest cannot guess. */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = x;
		vm->data_sum = ((vm->data_sum << 5) | (vm->data_sum >> 27)) ^ x;
	}
	ok = ok && vmmem_memory_write_slice(m, vmmem_guest_addr(GDT_ADDR), gdt, sizeof(gdt), &err);
	ok = ok && vmmem_memory_write_slice(m, vmmem_guest_addr(CODE_ADDR), guest_code,
					    sizeof(guest_code), &err);
	for (size_t i = 0; ok && i < N_STRINGS; i++) {
		memset(slot, 0, sizeof(slot));
		g_strlcpy(slot, strings[i], sizeof(slot));
		ok = vmmem_memory_write_slice(m, vmmem_guest_addr(STR_ADDR + 64 * i), slot,
					      sizeof(slot), &err);
	}
	ok = ok && vmmem_memory_write_slice(m, vmmem_guest_addr(DATA_ADDR), data, sizeof(data),
					    &err);
	ok = ok && vmmem_memory_write_slice(m, vmmem_guest_addr(MAILBOX_ADDR), zero, sizeof(zero),
					    &err);
	if (!ok)
		die("%s: loading the guest: %s", vm->config_path, err->message);
	vmmem_space_put(vm->space, m);
}

/* ---- dirty pages ------------------------------------------------------------- */

static gint
cmp_u64(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The guest pages KVM logged since the slots were made: KVM_GET_DIRTY_LOG
 * on every slot, which also clears the log. A sorted array of guest
 * addresses of 4 KiB pages. */
static GArray *
dirty_kvm(struct vm *vm)
{
	GArray *pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	for (unsigned s = 0; s < vm->n_slots; s++) {
		uint64_t npages = vm->slots[s].size / PAGE;
		uint64_t *bits = g_new0(uint64_t, (npages + 63) / 64);
		struct kvm_dirty_log log = { .slot = vm->slots[s].id, .dirty_bitmap = bits };

		if (ioctl(vm->vm, KVM_GET_DIRTY_LOG, &log) < 0)
			die("region '%s': KVM_GET_DIRTY_LOG slot %u: %s", vm->slots[s].name,
			    vm->slots[s].id, strerror(errno));
		for (uint64_t p = 0; p < npages; p++)
			if (bits[p / 64] >> (p % 64) & 1) {
				uint64_t addr = vm->slots[s].start + p * PAGE;

				g_array_append_val(pages, addr);
			}
		g_free(bits);
	}
	g_array_sort(pages, cmp_u64);
	return pages;
}

/* The pages vmmem's dirty tracking logged (the VMM's own writes through
 * the consumer API), fetched and cleared region by region. */
static GArray *
dirty_vmmem(struct vm *vm)
{
	GArray *pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	const vmmem_memory_t *m = vmmem_space_get(vm->space);
	GError *err = NULL;

	for (size_t i = 0; i < vmmem_memory_num_regions(m); i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);
		uint64_t npages = vmmem_region_size(r) / PAGE, start = vmmem_region_start(r).raw;
		size_t n_words = (npages + 63) / 64;
		uint64_t *bits;

		if (!vmmem_region_dirty_tracking(r))
			continue;
		bits = g_new0(uint64_t, n_words);
		if (!vmmem_memory_fetch_dirty(m, vmmem_region_start(r), vmmem_region_size(r), bits,
					      n_words, &err))
			die("region '%s': vmmem_memory_fetch_dirty: %s", vmmem_region_name(r),
			    err->message);
		for (uint64_t p = 0; p < npages; p++)
			if (bits[p / 64] >> (p % 64) & 1) {
				uint64_t addr = start + p * PAGE;

				g_array_append_val(pages, addr);
			}
		g_free(bits);
	}
	vmmem_space_put(vm->space, m);
	g_array_sort(pages, cmp_u64);
	return pages;
}

static void
sort_unique(GArray *pages)
{
	guint out = 0;

	g_array_sort(pages, cmp_u64);
	for (guint i = 0; i < pages->len; i++)
		if (out == 0 ||
		    g_array_index(pages, uint64_t, i) != g_array_index(pages, uint64_t, out - 1))
			g_array_index(pages, uint64_t, out++) = g_array_index(pages, uint64_t, i);
	g_array_set_size(pages, out);
}

static bool
pages_equal(const GArray *a, const GArray *b)
{
	return a->len == b->len &&
	       memcmp(a->data, b->data, a->len * sizeof(uint64_t)) == 0;
}

/* "0x3000 0x4000-0x5fff ...": runs of pages as inclusive ranges. */
static char *
pages_text(const GArray *pages)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < pages->len;) {
		uint64_t first = g_array_index(pages, uint64_t, i), last = first;

		for (i++; i < pages->len && g_array_index(pages, uint64_t, i) == last + PAGE; i++)
			last += PAGE;
		g_string_append_printf(s, "%s0x%" PRIx64, s->len ? " " : "", first);
		if (last != first)
			g_string_append_printf(s, "-0x%" PRIx64, last + PAGE - 1);
	}
	if (!s->len)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

/* ---- device models --------------------------------------------------------- */

/* The hotplug controller, on its own thread while the vCPU keeps running
 * (the guest polls the mailbox): hot-adds the config's dimm to the space,
 * gives it a KVM slot, then tells the guest through the mailbox. The
 * region is in the space before KVM and the guest learn of it, so no one
 * can reach memory vmmem does not know. */
static void *
hotplug_main(void *arg)
{
	struct vm *vm = arg;
	const vmmem_memory_t *m;
	const vmmem_region_t *r;
	uint32_t status = MAILBOX_FAILED;
	GError *err = NULL;

	if (!vmmem_space_add_region_from_config(vm->space, vm->config, vm->dimm_name, &err)) {
		snprintf(vm->hotplug_error, sizeof(vm->hotplug_error), "%s", err->message);
		g_clear_error(&err);
	}
	m = vmmem_space_get(vm->space);
	r = vmmem_memory_to_region(m, vmmem_guest_addr(vm->dimm_start), NULL);
	if (r && !vm->hotplug_error[0] &&
	    kvm_add_slot(vm, r, vm->hotplug_error, sizeof(vm->hotplug_error)))
		status = MAILBOX_ADDED;
	/* The address first, then (release) the status the guest polls. */
	if (!vmmem_memory_store_u32(m, vmmem_guest_addr(MAILBOX_ADDR + 4), (uint32_t)vm->dimm_start,
				    memory_order_relaxed, &err) ||
	    !vmmem_memory_store_u32(m, vmmem_guest_addr(MAILBOX_ADDR), status,
				    memory_order_release, &err)) {
		snprintf(vm->hotplug_error, sizeof(vm->hotplug_error), "the mailbox: %s",
			 err->message);
		g_clear_error(&err);
	}
	vmmem_space_put(vm->space, m);
	return NULL;
}

/* The ring kick: tinyvm's own device model answers, or it forwards the
 * kick to examples/backend and waits for its answer (one byte each way,
 * as a vhost-user kick and call would be eventfds). */
static void
ring_kick(struct vm *vm)
{
	GError *err = NULL;
	char byte = 'k';
	struct pollfd pfd = { .fd = vm->backend_sock, .events = POLLIN };

	if (vm->backend_sock < 0) {
		const vmmem_memory_t *m = vmmem_space_get(vm->space);

		if (!tinyvm_ring_serve(m, "the tinyvm device model", &err)) {
			snprintf(vm->ring_error, sizeof(vm->ring_error), "%s", err->message);
			g_clear_error(&err);
		}
		vmmem_space_put(vm->space, m);
		return;
	}
	if (write(vm->backend_sock, &byte, 1) != 1) {
		snprintf(vm->ring_error, sizeof(vm->ring_error), "kicking the backend: write: %s",
			 strerror(errno));
		return;
	}
	if (poll(&pfd, 1, 10000) != 1 || read(vm->backend_sock, &byte, 1) != 1)
		snprintf(vm->ring_error, sizeof(vm->ring_error),
			 "the backend (pid %d) did not answer the kick within 10 s",
			 (int)vm->backend_pid);
}

/* COM1's data register: the guest's output, echoed line by line. */
static void
serial_out(struct vm *vm, char c)
{
	if (vm->serial_bol)
		fputs("guest| ", stdout);
	putchar(c);
	vm->serial_bol = c == '\n';
	g_string_append_c(vm->serial, c);
}

/* ---- the backend ------------------------------------------------------------ */

/* Starts examples/backend with one end of a socketpair and sends it the
 * guest memory. Memory no other process can map is refused here, before
 * any process starts, with vmmem's reason. */
static void
backend_start(struct vm *vm, const char *path)
{
	const vmmem_memory_t *m = vmmem_space_get(vm->space);
	GError *err = NULL;
	int sv[2];
	char fd_text[16];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("--backend: socketpair: %s", strerror(errno));
	/* Sent before the backend starts: the message (the region table and an
	 * fd per region) fits the socket buffer for a few regions; thousands
	 * would need the child reading first. vmmem_memory_send() checks
	 * every region before sending a byte, and
	 * its message names the one that cannot travel. */
	if (!vmmem_memory_send(m, sv[0], &err)) {
		printf("tinyvm: REFUSED: --backend: %s: %s (tinyvm-memfd.conf and "
		       "tinyvm-hugetlbfs.conf can be shared)\n", vm->config_path, err->message);
		exit(2);
	}
	vmmem_space_put(vm->space, m);
	vm->backend_pid = fork();
	if (vm->backend_pid < 0)
		die("--backend: fork: %s", strerror(errno));
	if (vm->backend_pid == 0) {
		/* The message waits in the socket; the child reads it. */
		int fd = dup(sv[1]); /* without O_CLOEXEC: it survives exec */

		snprintf(fd_text, sizeof(fd_text), "%d", fd);
		execl(path, path, fd_text, (char *)NULL);
		fprintf(stderr, "tinyvm: --backend: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	vm->backend_sock = sv[0];
	printf("tinyvm: sent the guest memory to %s (pid %d)\n", path, (int)vm->backend_pid);
}

/* Closing the socket tells the backend to exit; its status is a check. */
static bool
backend_stop(struct vm *vm, char *why, size_t why_size)
{
	int status;

	close(vm->backend_sock);
	vm->backend_sock = -1;
	if (waitpid(vm->backend_pid, &status, 0) < 0) {
		snprintf(why, why_size, "waitpid: %s", strerror(errno));
		return false;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		snprintf(why, why_size, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(why, why_size, "killed by signal %d", WTERMSIG(status));
	return false;
}

/* ---- the run ---------------------------------------------------------------- */

/* Runs the vCPU to its hlt. Returns NULL, or why the run ended early. */
static char *
vcpu_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: KVM_RUN gets EINTR */

	sigaction(SIGALRM, &sa, NULL);
	alarm(GUEST_TIMEOUT_S);
	for (;;) {
		struct kvm_run *run = vm->run;

		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && timed_out)
				return g_strdup_printf("the guest did not halt within %d s",
						       GUEST_TIMEOUT_S);
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return g_strdup_printf("KVM_RUN: %s", strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_HLT:
			alarm(0);
			return NULL;
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			if (run->io.direction == KVM_EXIT_IO_IN) {
				/* Nothing here is readable: floating bus. */
				memset(data, 0xff, (size_t)run->io.size * run->io.count);
				break;
			}
			if (run->io.port == PORT_COM1) {
				for (uint32_t i = 0; i < run->io.count; i++)
					serial_out(vm, (char)data[i * run->io.size]);
			} else if (run->io.port == PORT_RING_KICK) {
				ring_kick(vm);
			} else if (run->io.port == PORT_HOTPLUG && !vm->hotplug_started) {
				sigset_t alrm, old;
				int e;

				/* The thread starts with SIGALRM blocked, so that the
				 * timeout interrupts this thread's KVM_RUN. */
				sigemptyset(&alrm);
				sigaddset(&alrm, SIGALRM);
				pthread_sigmask(SIG_BLOCK, &alrm, &old);
				e = pthread_create(&vm->hotplug_thread, NULL, hotplug_main, vm);
				pthread_sigmask(SIG_SETMASK, &old, NULL);
				if (e)
					return g_strdup_printf("hotplug: pthread_create: %s",
							       strerror(e));
				vm->hotplug_started = true;
			} else {
				return g_strdup_printf("unexpected OUT to port 0x%x",
						       run->io.port);
			}
			break;
		}
		case KVM_EXIT_FAIL_ENTRY:
			return g_strdup_printf("KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
					       (unsigned long long)
					       run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			return g_strdup_printf("KVM_EXIT_INTERNAL_ERROR, suberror %u",
					       run->internal.suberror);
		case KVM_EXIT_SHUTDOWN:
			return g_strdup("KVM_EXIT_SHUTDOWN: the guest triple-faulted");
		case KVM_EXIT_MMIO:
			return g_strdup_printf("KVM_EXIT_MMIO: the guest touched unbacked 0x%llx",
					       (unsigned long long)run->mmio.phys_addr);
		default:
			return g_strdup_printf("unexpected KVM exit reason %u", run->exit_reason);
		}
	}
}

/* ---- the checks -------------------------------------------------------------- */

static void
check_results(struct vm *vm)
{
	const vmmem_memory_t *m = vmmem_space_get(vm->space);
	char buf[128], reply[RING_REPLY_LEN + 1] = { 0 }, dimm[64];
	uint8_t pattern[PATTERN_LEN];
	uint32_t sum = 0, resp_seq = 0, left = MAILBOX_POLLS;
	const char *who = vm->backend_sock >= 0 ? "backend" : "the tinyvm device model";
	GString *expect = g_string_new(NULL);
	GError *err = NULL;
	bool ok;

	/* Read before the serial check: the expected output is made of them. */
	ok = vmmem_memory_read_slice(m, vmmem_guest_addr(RING_REPLY), reply, RING_REPLY_LEN, &err) &&
	     vmmem_memory_load_u32(m, vmmem_guest_addr(RING_RESP_SEQ), &resp_seq,
				   memory_order_acquire, &err);
	if (!ok)
		die("reading the ring: %s", err->message);

	g_string_append_printf(expect, "%s%s%08x%s%s%s%08" PRIx64 "%s%s", strings[S_HELLO],
			       strings[S_SUM], vm->data_sum, strings[S_REPLY], reply,
			       strings[S_DIMM], vm->dimm_start, strings[S_DIMM_OK], strings[S_BYE]);
	check(vm, strcmp(vm->serial->str, expect->str) == 0,
	      "the guest's serial output is what its program prints (%zu bytes)", vm->serial->len);
	g_string_free(expect, TRUE);

	ok = vmmem_memory_read_slice(m, vmmem_guest_addr(MSG_BUF), buf, sizeof(buf), &err);
	check(vm, ok && memcmp(buf, strings[S_HELLO], strlen(strings[S_HELLO]) + 1) == 0,
	      "the message the guest wrote at 0x%x reads back through vmmem", MSG_BUF);
	g_clear_error(&err);

	/* One read across the two regions: vmmem joins them. */
	ok = vmmem_memory_read_slice(m, vmmem_guest_addr(BOUNDARY - PATTERN_LEN / 2), pattern,
				     sizeof(pattern), &err);
	for (unsigned i = 0; ok && i < PATTERN_LEN; i++)
		ok = pattern[i] == (uint8_t)(0x11 + 7 * i);
	check(vm, ok, "the pattern at [0x%x, 0x%x) reads back across regions '%s' and '%s'",
	      BOUNDARY - PATTERN_LEN / 2, BOUNDARY + PATTERN_LEN / 2,
	      vmmem_region_name(vmmem_memory_to_region(m, vmmem_guest_addr(BOUNDARY - 1), NULL)),
	      vmmem_region_name(vmmem_memory_to_region(m, vmmem_guest_addr(BOUNDARY), NULL)));
	g_clear_error(&err);

	ok = vmmem_memory_load_u32(m, vmmem_guest_addr(RESULT_ADDR), &sum, memory_order_relaxed,
				   &err);
	check(vm, ok && sum == vm->data_sum,
	      "the guest's checksum of the loader's data at 0x%x is 0x%08x (expected 0x%08x)",
	      DATA_ADDR, sum, vm->data_sum);
	g_clear_error(&err);

	check(vm, !vm->ring_error[0] && resp_seq == 1 &&
		  g_str_has_prefix(reply, "pong from ") &&
		  g_str_has_prefix(reply + strlen("pong from "), who),
	      "the ring request was answered by %s: '%s'%s%s", who, reply,
	      vm->ring_error[0] ? ": " : "", vm->ring_error);

	ok = vmmem_memory_load_u32(m, vmmem_guest_addr(RESULT_ADDR + 4), &left,
				   memory_order_relaxed, &err) &&
	     vm->hotplug_started && !vm->hotplug_error[0] &&
	     vmmem_memory_read_slice(m, vmmem_guest_addr(vm->dimm_start), dimm, sizeof(dimm),
				     &err) &&
	     memcmp(dimm, strings[S_DIMM_MSG], strlen(strings[S_DIMM_MSG]) + 1) == 0;
	check(vm, ok, "region '%s' hot-added at 0x%" PRIx64 " while the guest ran (it polled the "
		      "mailbox %u times); what the guest wrote there reads back%s%s",
	      vm->dimm_name, vm->dimm_start, MAILBOX_POLLS - left,
	      vm->hotplug_error[0] ? ": " : "", vm->hotplug_error);
	g_clear_error(&err);
	vmmem_space_put(vm->space, m);
}

static void
check_pages(struct vm *vm, const char *what, const GArray *got, const GArray *want)
{
	bool ok = pages_equal(got, want);
	char *a = pages_text(got), *b = pages_text(want);

	check(vm, ok, "%s: %s%s%s", what, a, ok ? "" : "; expected ", ok ? "" : b);
	g_free(a);
	g_free(b);
}

/* KVM's log against the pages the guest program writes, vmmem's against
 * the pages tinyvm's device models wrote; their union is a migration's
 * copy set after this run. */
static void
check_dirty(struct vm *vm)
{
	static const uint64_t guest_writes[] = { MSG_BUF, RESULT_ADDR, RING_ADDR,
						 STACK_TOP - PAGE, /* call's return addresses */
						 BOUNDARY - PAGE, BOUNDARY };
	GArray *kvm = dirty_kvm(vm), *ours = dirty_vmmem(vm);
	GArray *want_kvm = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *want_ours = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *copy = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t page;
	char *a;

	/* Both logs are in 4 KiB pages, huge-page regions included. */
	g_array_append_vals(want_kvm, guest_writes, G_N_ELEMENTS(guest_writes));
	g_array_append_val(want_kvm, vm->dimm_start);
	sort_unique(want_kvm);
	page = MAILBOX_ADDR & ~(uint64_t)(PAGE - 1);
	g_array_append_val(want_ours, page);
	/* With --backend the reply is written by the backend, through its own
	 * mapping: not in this process's log. It lands in the ring page the
	 * guest wrote, which KVM's log holds; a real backend would log into a
	 * shared log (vmmem_space_set_log, the vhost-user dirty log). */
	if (vm->backend_sock < 0) {
		page = RING_ADDR;
		g_array_append_val(want_ours, page);
	}
	sort_unique(want_ours);

	check_pages(vm, "KVM's dirty log holds exactly the pages the guest wrote", kvm, want_kvm);
	check_pages(vm, "vmmem's dirty log holds exactly the pages tinyvm's device models wrote",
		    ours, want_ours);

	g_array_append_vals(copy, kvm->data, kvm->len);
	g_array_append_vals(copy, ours->data, ours->len);
	sort_unique(copy);
	a = pages_text(copy);
	printf("tinyvm: a migration would copy %u pages (%u KiB): %s\n", copy->len, copy->len * 4,
	       a);
	g_free(a);
	g_array_free(kvm, TRUE);
	g_array_free(ours, TRUE);
	g_array_free(want_kvm, TRUE);
	g_array_free(want_ours, TRUE);
	g_array_free(copy, TRUE);
}

/* ---- main -------------------------------------------------------------------- */

static void G_GNUC_NORETURN
usage(const char *argv0, int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s --config FILE [--backend[=PATH]]\n"
		"  --config FILE     the guest RAM (examples/tinyvm-*.conf)\n"
		"  --backend[=PATH]  serve the ring from examples/backend (default: 'backend'\n"
		"                    beside this program), with the memory shared over a socket\n",
		argv0);
	exit(status);
}

int
main(int argc, char **argv)
{
	struct vm vm = { .kvm = -1, .vm = -1, .vcpu = -1, .backend_sock = -1,
			 .serial_bol = true, .slots_lock = PTHREAD_MUTEX_INITIALIZER };
	const char *backend = NULL;
	char *backend_default = NULL, *why, *dir;
	GArray *cleared;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			vm.config_path = argv[++i];
		} else if (g_str_has_prefix(argv[i], "--config=")) {
			vm.config_path = argv[i] + strlen("--config=");
		} else if (strcmp(argv[i], "--backend") == 0) {
			dir = g_path_get_dirname(argv[0]);
			backend = backend_default = g_build_filename(dir, "backend", NULL);
			g_free(dir);
		} else if (g_str_has_prefix(argv[i], "--backend=")) {
			backend = argv[i] + strlen("--backend=");
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(argv[0], 0);
		} else {
			usage(argv[0], 2);
		}
	}
	if (!vm.config_path)
		usage(argv[0], 2);
	vm.serial = g_string_new(NULL);

	kvm_open(&vm);
	memory_build(&vm);
	memory_load(&vm);
	/* The loader's writes are not a device model's: start vmmem's log
	 * clean, as KVM's starts clean for the guest. */
	cleared = dirty_vmmem(&vm);
	printf("tinyvm: loaded %zu bytes of guest program, %d strings and %zu bytes of data "
	       "(%u pages, cleared from vmmem's dirty log)\n",
	       sizeof(guest_code), N_STRINGS, (size_t)DATA_DWORDS * 4, cleared->len);
	g_array_free(cleared, TRUE);
	if (backend)
		backend_start(&vm, backend);
	vcpu_init(&vm);

	why = vcpu_run(&vm);
	if (vm.hotplug_started)
		pthread_join(vm.hotplug_thread, NULL);
	if (!vm.serial_bol)
		putchar('\n');
	if (why) {
		if (vm.backend_sock >= 0)
			kill(vm.backend_pid, SIGTERM);
		die("%s: %s", vm.config_path, why);
	}

	check_results(&vm);
	check_dirty(&vm);
	if (vm.backend_sock >= 0) {
		char bwhy[128] = "";
		pid_t pid = vm.backend_pid;
		bool ok = backend_stop(&vm, bwhy, sizeof(bwhy));

		check(&vm, ok, "the backend (pid %d) exited cleanly%s%s", (int)pid,
		      ok ? "" : ": ", bwhy);
	}

	if (vm.failed)
		printf("tinyvm: FAIL: %u of %u checks failed\n", vm.failed, vm.checks);
	else
		printf("tinyvm: PASS (%u checks)\n", vm.checks);
	vmmem_space_free(vm.space);
	vmmem_config_free(vm.config);
	g_string_free(vm.serial, TRUE);
	g_free(backend_default);
	return vm.failed ? 1 : 0;
}
