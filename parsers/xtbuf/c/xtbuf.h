/*
 * xtbuf.h: a single-header C11 writer of xtbuf dumps (parsers/xtbuf/xtbuf-format.md, version 1.1),
 * the userspace side of xtrace's instrumentation kit. No dependency beyond libc and pthreads
 * (Linux; x86 for the TSC clock).
 *
 * What it gives a program such as tapdisk or qemu:
 *   - a probe table: the names of its probe points (a record stores the index, the dump the names);
 *   - one fixed-size ring of 48-byte records per process, written by any thread without a lock
 *     (one atomic fetch-add claims a slot; when the ring is full the oldest records are overwritten
 *     and the dump's `written` > `capacity` tells the reader how many were lost);
 *   - timestamps from the chosen clock (CLOCK_MONOTONIC by default, as the header's clock field);
 *   - a dump of the ring in the binary form, on demand (xtbuf_dump) or from a signal handler
 *     (xtbuf_dump_on_signal: the handler calls open/write/close only).
 *
 * Use it (tapdisk-like code):
 *
 *   // in exactly ONE .c file of the program:
 *   #define XTBUF_IMPLEMENTATION
 *   #include "xtbuf.h"
 *   // in every other file that records: #include "xtbuf.h"
 *
 *   enum { TD_GET_REQ, TD_ISSUE, TD_AIO_SUBMIT, TD_AIO_DONE, TD_RSP };   // indexes ...
 *   static const char *const probes[] = {                                 // ... into these names
 *     "td_get_req", "td_issue", "td_aio_submit", "td_aio_done", "td_rsp" };
 *
 *   // once, at start-up (after any fork: the ring belongs to the process that set it up):
 *   struct xtbuf_config cfg = { .probes = probes, .nprobes = 5, .comm = "tapdisk" };
 *   if (xtbuf_init(&cfg) != 0) perror("xtbuf_init");          // capacity 0: $XTBUF_RING or 65536
 *   xtbuf_dump_on_signal(SIGUSR2, "/var/tmp/tapdisk.xtbuf"); // `kill -USR2 <pid>` dumps the ring
 *
 *   // at each probe point, any thread; fields are named, the others are absent (not zero):
 *   xtbuf_hit(TD_GET_REQ, XTBUF_ID(idx), XTBUF_OP('R'), XTBUF_SECTOR(sec), XTBUF_NSEC(nsec));
 *   xtbuf_hit(TD_RSP, XTBUF_ID(idx), XTBUF_STATUS(err));
 *
 *   // or on demand, e.g. at exit:
 *   xtbuf_dump("/var/tmp/tapdisk.xtbuf");
 *
 * then `xtrace ingest --db t.db --domain dom0 /var/tmp/tapdisk.xtbuf`. The probe names and fields
 * the built-in Xen profiles expect are in src/profiles/builtin/xen-probes.md (userspace probes).
 *
 * Fields (the record's fixed fields; at most one of each per record):
 *   XTBUF_ID(u64) XTBUF_SECTOR(u64) XTBUF_VDEV(u32) XTBUF_NSEC(u32) XTBUF_DOMID(u16)
 *   XTBUF_RING(u8) XTBUF_OP('R'|'W'|'F'|'D') XTBUF_STATUS(i16)
 *
 * Configuration left at 0/NULL in struct xtbuf_config is taken from the environment, so an
 * operator can size the ring or match the kernel trace clock without recompiling:
 *   XTBUF_RING=N         records in the ring (default 65536, i.e. 3 MiB)
 *   XTBUF_CLOCK=C        monotonic (default), realtime, monotonic_raw or tsc (x86 only)
 *   XTBUF_TSC_HZ=N       TSC cycles per second written to the header (else 0: pass --tsc-hz to
 *                        xtrace ingest)
 * Record with the clock the kernel trace uses (trace_clock=mono ↔ monotonic, x86-tsc ↔ tsc) and
 * xtrace needs no offset estimation between the two (xen-probes.md, "Clock domains").
 *
 * Consistency of a dump taken while threads record: the dump reads `written` once, then the ring.
 * Slots beyond that count are written as zeros, so a record claimed afterwards never shows. A
 * record whose slot was claimed but not yet filled (at most one per recording thread, e.g. the
 * thread the signal interrupted) shows as an all-zero slot (xtrace counts `xtbuf_empty_slot`) or,
 * in a wrapped ring, as the older record it is overwriting; a record filled while the dump copies
 * its slot may be torn. For an exact dump, dump when the recording threads are idle (at exit, or
 * after draining the I/O). Never use one ring from two processes (no shared memory).
 *
 * Compiling: C11 with POSIX (gcc/clang's default gnu dialects; with -std=c11, define
 * _DEFAULT_SOURCE or _POSIX_C_SOURCE=200809L before the first #include). Link with -pthread only
 * when the program makes threads; xtbuf itself needs none (C11 atomics).
 *
 * Byte order: the ring is memory dumped as it is, so the host must be little-endian (checked at
 * compile time).
 */
#ifndef XTBUF_H
#define XTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The header's clock codes. */
enum xtbuf_clock {
  XTBUF_CLOCK_DEFAULT = 0, /* $XTBUF_CLOCK, else monotonic */
  XTBUF_CLOCK_MONOTONIC = 1,
  XTBUF_CLOCK_REALTIME = 2,
  XTBUF_CLOCK_TSC = 3,
  XTBUF_CLOCK_MONOTONIC_RAW = 4,
};

#define XTBUF_DEFAULT_CAPACITY 65536u
#define XTBUF_PROBE_NAME_SIZE 32 /* bytes per name in the table (a 32-byte name has no NUL) */
#define XTBUF_COMM_SIZE 16
#define XTBUF_MAX_PROBES 65536u

struct xtbuf_config {
  /** Probe names (1..32 bytes, no whitespace, no '='); a record's probe is an index here. */
  const char *const *probes;
  size_t nprobes;
  /** Records in the ring; 0: $XTBUF_RING, else XTBUF_DEFAULT_CAPACITY. */
  uint64_t capacity;
  enum xtbuf_clock clock;
  /** TSC cycles per second (clock TSC only); 0: $XTBUF_TSC_HZ, else unknown (0 in the header). */
  uint64_t tsc_hz;
  /** Process name in the header (up to 16 bytes); NULL: /proc/self/comm. */
  const char *comm;
};

/** One probe hit: the probe index and the fields present (use xtbuf_hit and XTBUF_*). */
struct xtbuf_hit_args {
  unsigned probe;
  uint64_t id, sector;
  uint32_t vdev, nsec;
  uint16_t domid;
  uint8_t ring;
  char op;
  int16_t status;
  bool has_id, has_sector, has_vdev, has_nsec, has_domid, has_ring, has_op, has_status;
};

#define XTBUF_ID(v) .id = (uint64_t)(v), .has_id = true
#define XTBUF_SECTOR(v) .sector = (uint64_t)(v), .has_sector = true
#define XTBUF_VDEV(v) .vdev = (uint32_t)(v), .has_vdev = true
#define XTBUF_NSEC(v) .nsec = (uint32_t)(v), .has_nsec = true
#define XTBUF_DOMID(v) .domid = (uint16_t)(v), .has_domid = true
#define XTBUF_RING(v) .ring = (uint8_t)(v), .has_ring = true
#define XTBUF_OP(v) .op = (char)(v), .has_op = true
#define XTBUF_STATUS(v) .status = (int16_t)(v), .has_status = true

/** Records a hit of probe PROBE (an index into the probe table) with the fields given. */
#define xtbuf_hit(...) xtbuf_record(&(const struct xtbuf_hit_args){.probe = __VA_ARGS__})

/**
 * Sets up the process's ring (once). 0 on success; -1 with errno: EINVAL (a bad probe name,
 * capacity or clock, or a bad XTBUF_* variable), ENOMEM, EALREADY (already set up).
 */
int xtbuf_init(const struct xtbuf_config *cfg);
/** Appends one record (lock-free, any thread). A hit before xtbuf_init or with an unknown probe index is dropped. */
void xtbuf_record(const struct xtbuf_hit_args *hit);
/** Writes the dump (binary form) to PATH (created or truncated, mode 0644). Async-signal-safe. 0, or -1 with errno. */
int xtbuf_dump(const char *path);
/** Writes the dump to an open descriptor. Async-signal-safe. 0, or -1 with errno. */
int xtbuf_dump_fd(int fd);
/** Installs a handler that dumps to PATH (copied) whenever SIG arrives (SIGUSR2 by convention). 0, or -1 with errno. */
int xtbuf_dump_on_signal(int sig, const char *path);
/** Records ever written (the dump's `written`). */
uint64_t xtbuf_written(void);
/** Records the ring holds (0 before xtbuf_init). */
uint64_t xtbuf_capacity(void);

#ifdef __cplusplus
}
#endif
#endif /* XTBUF_H */

/* ---------------------------------------------------------------------------------------------- */
#ifdef XTBUF_IMPLEMENTATION
#ifndef XTBUF_IMPLEMENTED
#define XTBUF_IMPLEMENTED

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define XTBUF_HAVE_TSC 1
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xtbuf.h: the dump is the ring's memory and the format is little-endian; this host is not"
#endif

/** A ring slot, exactly the format's 48-byte record. */
struct xtbuf_slot {
  uint64_t ts;
  uint64_t sector;
  uint64_t id;
  uint32_t vdev;
  uint32_t nsec;
  uint16_t probe;
  uint16_t domid;
  uint8_t ring;
  uint8_t op;
  int16_t status;
  uint16_t valid;
  uint8_t reserved[6];
};
_Static_assert(sizeof(struct xtbuf_slot) == 48, "xtbuf record is 48 bytes");
_Static_assert(offsetof(struct xtbuf_slot, vdev) == 24 && offsetof(struct xtbuf_slot, probe) == 32 &&
                   offsetof(struct xtbuf_slot, ring) == 36 && offsetof(struct xtbuf_slot, status) == 38 &&
                   offsetof(struct xtbuf_slot, valid) == 40,
               "xtbuf record layout");

enum {
  XTBUF_HEADER_SIZE = 64,
  XTBUF_VALID_SECTOR = 1 << 0,
  XTBUF_VALID_ID = 1 << 1,
  XTBUF_VALID_VDEV = 1 << 2,
  XTBUF_VALID_NSEC = 1 << 3,
  XTBUF_VALID_DOMID = 1 << 4,
  XTBUF_VALID_RING = 1 << 5,
  XTBUF_VALID_OP = 1 << 6,
  XTBUF_VALID_STATUS = 1 << 7,
};

/** The process's ring. `ready` is set last by xtbuf_init (release) and read first (acquire). */
static struct {
  _Atomic uint64_t written;
  _Atomic int ready;
  uint64_t capacity;
  struct xtbuf_slot *ring;
  /** Probe table as dumped: u32 nprobes, u32 reserved, nprobes names of 32 bytes. */
  unsigned char *table;
  size_t table_size;
  /** Header as dumped, except `written` (patched in at dump time). */
  unsigned char header[XTBUF_HEADER_SIZE];
  unsigned nprobes;
  enum xtbuf_clock clock;
  clockid_t clock_id;
  char signal_path[4096];
} xtbuf_g;

static void xtbuf_put_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/** A decimal u64 from the environment: 1 when set and valid, 0 when unset, -1 when invalid. */
static int xtbuf_env_u64(const char *name, uint64_t *out) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0') return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-') return -1;
  *out = (uint64_t)v;
  return 1;
}

static enum xtbuf_clock xtbuf_env_clock(void) {
  static const char *const names[] = {NULL, "monotonic", "realtime", "tsc", "monotonic_raw"};
  const char *s = getenv("XTBUF_CLOCK");
  if (s == NULL || *s == '\0') return XTBUF_CLOCK_MONOTONIC;
  for (int c = 1; c <= 4; c++)
    if (strcmp(s, names[c]) == 0) return (enum xtbuf_clock)c;
  return XTBUF_CLOCK_DEFAULT; /* invalid */
}

static bool xtbuf_valid_name(const char *name) {
  size_t n = name == NULL ? 0 : strlen(name);
  if (n == 0 || n > XTBUF_PROBE_NAME_SIZE) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c <= ' ' || c == '=' || c == 0x7f) return false;
  }
  return true;
}

/** The header's comm: cfg->comm, else /proc/self/comm, else "xtbuf". */
static void xtbuf_fill_comm(unsigned char *dst, const char *comm) {
  char buf[XTBUF_COMM_SIZE + 1] = {0};
  if (comm != NULL) {
    strncpy(buf, comm, XTBUF_COMM_SIZE);
  } else {
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, XTBUF_COMM_SIZE) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) strcpy(buf, "xtbuf");
    char *nl = strchr(buf, '\n');
    if (nl != NULL) *nl = '\0';
  }
  memcpy(dst, buf, XTBUF_COMM_SIZE);
}

int xtbuf_init(const struct xtbuf_config *cfg) {
  if (atomic_load_explicit(&xtbuf_g.ready, memory_order_acquire)) {
    errno = EALREADY;
    return -1;
  }
  if (cfg == NULL || cfg->probes == NULL || cfg->nprobes == 0 || cfg->nprobes > XTBUF_MAX_PROBES) {
    errno = EINVAL;
    return -1;
  }
  for (size_t i = 0; i < cfg->nprobes; i++) {
    if (!xtbuf_valid_name(cfg->probes[i])) {
      errno = EINVAL;
      return -1;
    }
  }
  uint64_t capacity = cfg->capacity;
  if (capacity == 0) {
    int got = xtbuf_env_u64("XTBUF_RING", &capacity);
    if (got < 0 || (got == 1 && capacity == 0)) {
      errno = EINVAL;
      return -1;
    }
    if (got == 0) capacity = XTBUF_DEFAULT_CAPACITY;
  }
  if (capacity > SIZE_MAX / sizeof(struct xtbuf_slot)) {
    errno = EINVAL;
    return -1;
  }
  enum xtbuf_clock clock = cfg->clock != XTBUF_CLOCK_DEFAULT ? cfg->clock : xtbuf_env_clock();
  clockid_t clock_id = CLOCK_MONOTONIC;
  switch (clock) {
    case XTBUF_CLOCK_MONOTONIC: clock_id = CLOCK_MONOTONIC; break;
    case XTBUF_CLOCK_REALTIME: clock_id = CLOCK_REALTIME; break;
    case XTBUF_CLOCK_MONOTONIC_RAW: clock_id = CLOCK_MONOTONIC_RAW; break;
#ifdef XTBUF_HAVE_TSC
    case XTBUF_CLOCK_TSC: break;
#endif
    default: errno = EINVAL; return -1;
  }
  uint64_t tsc_hz = 0;
  if (clock == XTBUF_CLOCK_TSC) {
    tsc_hz = cfg->tsc_hz;
    if (tsc_hz == 0 && xtbuf_env_u64("XTBUF_TSC_HZ", &tsc_hz) < 0) {
      errno = EINVAL;
      return -1;
    }
  }

  size_t table_size = 8 + cfg->nprobes * XTBUF_PROBE_NAME_SIZE;
  unsigned char *table = calloc(1, table_size);
  struct xtbuf_slot *ring = calloc((size_t)capacity, sizeof *ring);
  if (table == NULL || ring == NULL) {
    free(table);
    free(ring);
    errno = ENOMEM;
    return -1;
  }
  xtbuf_put_le(table, cfg->nprobes, 4);
  for (size_t i = 0; i < cfg->nprobes; i++) {
    memcpy(table + 8 + i * XTBUF_PROBE_NAME_SIZE, cfg->probes[i], strlen(cfg->probes[i]));
  }

  unsigned char *h = xtbuf_g.header;
  memset(h, 0, XTBUF_HEADER_SIZE);
  memcpy(h, "XTRCBUF1", 8);
  xtbuf_put_le(h + 8, 1, 4);                              /* version */
  xtbuf_put_le(h + 12, sizeof(struct xtbuf_slot), 4);     /* record_size */
  xtbuf_put_le(h + 16, (uint64_t)clock, 4);               /* clock */
  xtbuf_put_le(h + 20, (uint64_t)getpid(), 4);            /* pid */
  xtbuf_put_le(h + 24, tsc_hz, 8);                        /* tsc_hz */
  xtbuf_put_le(h + 32, capacity, 8);                      /* capacity */
  xtbuf_fill_comm(h + 48, cfg->comm);                     /* comm; written (40) at dump time */

  xtbuf_g.capacity = capacity;
  xtbuf_g.ring = ring;
  xtbuf_g.table = table;
  xtbuf_g.table_size = table_size;
  xtbuf_g.nprobes = (unsigned)cfg->nprobes;
  xtbuf_g.clock = clock;
  xtbuf_g.clock_id = clock_id;
  atomic_store_explicit(&xtbuf_g.written, 0, memory_order_relaxed);
  atomic_store_explicit(&xtbuf_g.ready, 1, memory_order_release);
  return 0;
}

static inline uint64_t xtbuf_now(void) {
#ifdef XTBUF_HAVE_TSC
  if (xtbuf_g.clock == XTBUF_CLOCK_TSC) return __rdtsc();
#endif
  struct timespec t;
  clock_gettime(xtbuf_g.clock_id, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void xtbuf_record(const struct xtbuf_hit_args *hit) {
  if (!atomic_load_explicit(&xtbuf_g.ready, memory_order_acquire) || hit->probe >= xtbuf_g.nprobes) return;
  struct xtbuf_slot r;
  memset(&r, 0, sizeof r);
  r.probe = (uint16_t)hit->probe;
  if (hit->has_sector) r.sector = hit->sector, r.valid |= XTBUF_VALID_SECTOR;
  if (hit->has_id) r.id = hit->id, r.valid |= XTBUF_VALID_ID;
  if (hit->has_vdev) r.vdev = hit->vdev, r.valid |= XTBUF_VALID_VDEV;
  if (hit->has_nsec) r.nsec = hit->nsec, r.valid |= XTBUF_VALID_NSEC;
  if (hit->has_domid) r.domid = hit->domid, r.valid |= XTBUF_VALID_DOMID;
  if (hit->has_ring) r.ring = hit->ring, r.valid |= XTBUF_VALID_RING;
  if (hit->has_op) r.op = (uint8_t)hit->op, r.valid |= XTBUF_VALID_OP;
  if (hit->has_status) r.status = hit->status, r.valid |= XTBUF_VALID_STATUS;
  /* Claim the slot, then take the time: slot order follows time order as closely as it can. */
  uint64_t i = atomic_fetch_add_explicit(&xtbuf_g.written, 1, memory_order_relaxed);
  r.ts = xtbuf_now();
  xtbuf_g.ring[i % xtbuf_g.capacity] = r;
}

/** write() until all of it is written; async-signal-safe. */
static int xtbuf_write_all(int fd, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int xtbuf_dump_fd(int fd) {
  if (!atomic_load_explicit(&xtbuf_g.ready, memory_order_acquire)) {
    errno = EINVAL;
    return -1;
  }
  /* One snapshot of the count; slots past it go out as zeros (see "Consistency" above). */
  uint64_t written = atomic_load_explicit(&xtbuf_g.written, memory_order_acquire);
  uint64_t capacity = xtbuf_g.capacity;
  uint64_t used = written < capacity ? written : capacity;
  unsigned char header[XTBUF_HEADER_SIZE];
  for (int i = 0; i < XTBUF_HEADER_SIZE; i++) header[i] = xtbuf_g.header[i];
  xtbuf_put_le(header + 40, written, 8);
  if (xtbuf_write_all(fd, header, sizeof header) != 0) return -1;
  if (xtbuf_write_all(fd, xtbuf_g.table, xtbuf_g.table_size) != 0) return -1;
  if (xtbuf_write_all(fd, xtbuf_g.ring, (size_t)used * sizeof(struct xtbuf_slot)) != 0) return -1;
  static const struct xtbuf_slot zeros[64];
  for (uint64_t left = capacity - used; left > 0;) {
    uint64_t n = left < 64 ? left : 64;
    if (xtbuf_write_all(fd, zeros, (size_t)n * sizeof(struct xtbuf_slot)) != 0) return -1;
    left -= n;
  }
  return 0;
}

int xtbuf_dump(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = xtbuf_dump_fd(fd);
  int saved = errno;
  if (close(fd) != 0 && rc == 0) return -1;
  errno = saved;
  return rc;
}

static void xtbuf_signal_handler(int sig) {
  (void)sig;
  int saved = errno;
  (void)xtbuf_dump(xtbuf_g.signal_path);
  errno = saved;
}

int xtbuf_dump_on_signal(int sig, const char *path) {
  size_t n = path == NULL ? 0 : strlen(path);
  if (n == 0) {
    errno = EINVAL;
    return -1;
  }
  if (n >= sizeof xtbuf_g.signal_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(xtbuf_g.signal_path, path, n + 1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = xtbuf_signal_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  return sigaction(sig, &sa, NULL);
}

uint64_t xtbuf_written(void) {
  return atomic_load_explicit(&xtbuf_g.written, memory_order_relaxed);
}

uint64_t xtbuf_capacity(void) {
  return atomic_load_explicit(&xtbuf_g.ready, memory_order_acquire) ? xtbuf_g.capacity : 0;
}

#endif /* XTBUF_IMPLEMENTED */
#endif /* XTBUF_IMPLEMENTATION */
