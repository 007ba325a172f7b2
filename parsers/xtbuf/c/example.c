/*
 * example.c: records probe hits with xtbuf.h from several threads and dumps the ring, the way a
 * tapdisk-like back end would. Also what test/parsers/xtbuf-c.test.ts runs to check the writer.
 *
 *   cc -O2 -pthread parsers/xtbuf/c/example.c -o example
 *   ./example OUT.xtbuf N [THREADS]
 *   xtrace ingest --db k.db OUT.xtbuf
 *
 * N hits are spread over THREADS threads (default 1; thread t takes N/THREADS hits, plus one when
 * t < N % THREADS). Each thread plays requests through the five tapdisk points of
 * src/profiles/builtin/xen-probes.md, so hit j of thread t (j = 0, 1, ...) is
 *
 *   probe  = PROBES[j % 5]           (td_get_req, td_issue, td_aio_submit, td_aio_done, td_rsp)
 *   id     = j / 5                   (the thread's request number)
 *   ring   = t
 *   vdev   = 51712
 *   sector = (t * 1000000 + j / 5) * 8,   nsec = 8,   op = R for even requests, W for odd ones
 *                                          (these three on td_get_req only)
 *   status = 0                       (td_rsp only)
 *
 * so a reader can check every record and, per thread (ring=), their order; example-profile.json
 * (beside this file) makes each request's five points one request of a breakdown:
 *   xtrace report --db k.db --profile parsers/xtbuf/c/example-profile.json
 *
 * Environment: XTBUF_RING=K makes the ring hold K records (a small K wraps it: only the newest K
 * survive), XTBUF_CLOCK picks the clock (see xtbuf.h), XTBUF_DUMP=signal dumps by raising SIGUSR2
 * (the handler xtbuf_dump_on_signal installs) instead of calling xtbuf_dump.
 */
#define _DEFAULT_SOURCE /* POSIX and Linux names even under -std=c11 */
#define XTBUF_IMPLEMENTATION
#include "xtbuf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TD_GET_REQ, TD_ISSUE, TD_AIO_SUBMIT, TD_AIO_DONE, TD_RSP, NPROBES };
static const char *const PROBES[NPROBES] = {"td_get_req", "td_issue", "td_aio_submit", "td_aio_done", "td_rsp"};

enum { VDEV = 51712, NSEC = 8, MAX_THREADS = 256 };

struct worker {
  pthread_t thread;
  unsigned index;
  uint64_t hits;
};

static void *work(void *arg) {
  const struct worker *w = arg;
  for (uint64_t j = 0; j < w->hits; j++) {
    uint64_t request = j / NPROBES;
    unsigned point = (unsigned)(j % NPROBES);
    switch (point) {
      case TD_GET_REQ:
        xtbuf_hit(TD_GET_REQ, XTBUF_ID(request), XTBUF_RING(w->index), XTBUF_VDEV(VDEV),
                  XTBUF_SECTOR(((uint64_t)w->index * 1000000 + request) * 8), XTBUF_NSEC(NSEC),
                  XTBUF_OP(request % 2 == 0 ? 'R' : 'W'));
        break;
      case TD_RSP:
        xtbuf_hit(TD_RSP, XTBUF_ID(request), XTBUF_RING(w->index), XTBUF_VDEV(VDEV), XTBUF_STATUS(0));
        break;
      default:
        xtbuf_hit(point, XTBUF_ID(request), XTBUF_RING(w->index), XTBUF_VDEV(VDEV));
        break;
    }
  }
  return NULL;
}

static int usage(void) {
  fprintf(stderr, "usage: example OUT.xtbuf N [THREADS]   (THREADS 1..%d; env XTBUF_RING, XTBUF_CLOCK, XTBUF_DUMP=signal)\n", MAX_THREADS);
  return 2;
}

/** A whole decimal number in [min, max], else -1. */
static long long number(const char *s, long long min, long long max) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) return -1;
  return v;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) return usage();
  const char *out = argv[1];
  long long n = number(argv[2], 0, 1LL << 40);
  long long threads = argc == 4 ? number(argv[3], 1, MAX_THREADS) : 1;
  if (n < 0 || threads < 0) return usage();

  struct xtbuf_config cfg = {.probes = PROBES, .nprobes = NPROBES, .comm = "example"};
  if (xtbuf_init(&cfg) != 0) {
    fprintf(stderr, "example: xtbuf_init: %s (check XTBUF_RING and XTBUF_CLOCK)\n", strerror(errno));
    return 1;
  }
  if (xtbuf_dump_on_signal(SIGUSR2, out) != 0) {
    fprintf(stderr, "example: xtbuf_dump_on_signal: %s\n", strerror(errno));
    return 1;
  }

  static struct worker workers[MAX_THREADS];
  for (unsigned t = 0; t < threads; t++) {
    workers[t].index = t;
    workers[t].hits = (uint64_t)n / (uint64_t)threads + (t < (uint64_t)n % (uint64_t)threads ? 1 : 0);
    int rc = pthread_create(&workers[t].thread, NULL, work, &workers[t]);
    if (rc != 0) {
      fprintf(stderr, "example: pthread_create: %s\n", strerror(rc));
      return 1;
    }
  }
  for (unsigned t = 0; t < threads; t++) pthread_join(workers[t].thread, NULL);

  const char *how = getenv("XTBUF_DUMP");
  if (how != NULL && strcmp(how, "signal") == 0) {
    if (raise(SIGUSR2) != 0) {
      perror("example: raise");
      return 1;
    }
  } else if (xtbuf_dump(out) != 0) {
    fprintf(stderr, "example: cannot write %s: %s\n", out, strerror(errno));
    return 1;
  }
  uint64_t written = xtbuf_written(), capacity = xtbuf_capacity();
  fprintf(stderr, "example: %llu records by %lld threads, ring of %llu (%llu overwritten) dumped to %s\n", (unsigned long long)written, threads,
          (unsigned long long)capacity, (unsigned long long)(written > capacity ? written - capacity : 0), out);
  return 0;
}
