/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xen-probes-kernel.h: the kernel side of xtrace's Xen probe contract
 * (src/profiles/builtin/xen-probes.md, version 1.1) as trace_printk() macros, one per probe point
 * of xen-blkfront (guest), xen-blkback and blktap2 (dom0).
 *
 * !! UNTESTED IN A KERNEL. xtrace's CI has no Xen: these macros have never run in a kernel. What
 * !! IS checked (test/parsers/xtbuf-c.test.ts) is that, compiled in userspace with trace_printk()
 * !! stubbed by printf(), each macro prints exactly the line the built-in Xen profiles match. The
 * !! placements below name functions and variables of Linux 6.1 (drivers/block/xen-blkfront.c,
 * !! drivers/block/xen-blkback/blkback.c) and of the out-of-tree blktap2 driver
 * !! (drivers/xen/blktap/ of the Xen 2.6.32 pvops dom0 tree; XenServer's later "blktap" module
 * !! keeps the names); check them against your tree before building.
 *
 * Why a header and not a patch: a patch applies to one kernel version, and blktap2 is not in
 * mainline at all, so a patch would not apply where it is needed most (distribution and vendor
 * dom0 kernels). The header pins what must not vary (each point's line, byte for byte, as the
 * profiles match it) and leaves the one-line placement to you, with the 6.1 placement described
 * at each macro.
 *
 * Use: copy this file next to the driver, `#include "xen-probes-kernel.h"`, put each XT_* call where
 * its comment says, build with -DCONFIG_XT_PROBES (without it the calls compile to nothing, with
 * format checking kept). Then record (as root):
 *
 *   echo 1 > /sys/kernel/tracing/options/trace_printk     # (the default)
 *   echo mono > /sys/kernel/tracing/trace_clock           # or x86-tsc, to share tapdisk's clock
 *   echo 1 > /sys/kernel/tracing/tracing_on; <workload>; cat /sys/kernel/tracing/trace > dom0.trace
 *   xtrace ingest --db x.db --domain dom0 dom0.trace
 *
 * trace_printk is for debugging builds: the kernel prints a large "trace_printk() is being used"
 * banner at boot and allocates per-CPU buffers for it. For a production kernel define real
 * tracepoints (TRACE_EVENT) with the same names and fields instead; xtrace matches the text
 * `xt <point> key=value ...`, whatever event carries it.
 *
 * Lines (the profiles match `^xt <point>( |$)`, then keys in any order; values decimal, op one of
 * R W F D, status signed with 0 = OK):
 *
 *   guest   xt fe_queue vdev= ring= id= op= sector= nsec=
 *           xt fe_notify vdev= ring=
 *           xt fe_irq vdev= ring=
 *           xt fe_rsp vdev= ring= id= status=
 *           xt fe_end vdev= ring= id=
 *   dom0    xt be_irq domid= vdev= ring=
 *           xt be_get_req domid= vdev= ring= id= op= sector= nsec=
 *           xt be_map domid= vdev= ring= id= nseg= new= persistent=
 *           xt be_submit domid= vdev= ring= id= nbio=
 *           xt be_bio_done domid= vdev= ring= id= status=
 *           xt be_rsp domid= vdev= ring= id= status= notify=
 *           xt tap_queue minor= op= sector= nsec=
 *           xt tap_submit minor= idx= op= sector= nsec=
 *           xt tap_end minor= idx= status=
 *
 * `vdev` is the virtual-device number of xenstore (51712 = xvda): blkfront's info->vdevice and
 * blkback's ring->blkif->vbd.handle are the same number. `ring` is the index of the ring (queue)
 * of a multi-queue device, 0 with one ring.
 */
#ifndef XEN_PROBES_KERNEL_H
#define XEN_PROBES_KERNEL_H

#ifdef CONFIG_XT_PROBES
#define xt_probe(fmt, ...) trace_printk("xt " fmt "\n", ##__VA_ARGS__)
#else
#define xt_probe(fmt, ...) no_printk("xt " fmt "\n", ##__VA_ARGS__)
#endif

/* ---- guest kernel: xen-blkfront ------------------------------------------------------------- */

/*
 * fe_queue: end of blkif_queue_rw_req(), after the ring request is filled (id taken from the free
 * list): XT_FE_QUEUE(info->vdevice, xt_fe_ring(info, rinfo), id, xt_blkif_op(ring_req),
 * xt_blkif_sector(ring_req), blk_rq_sectors(req)). op and sector come from the ring request, as
 * blkback sees them, so the two ends agree (a FUA write travels as BLKIF_OP_FLUSH_DISKCACHE: F).
 * With 64 KiB guest pages a request may need an extra ring request (require_extra_req): that case
 * is not covered (one line per block-layer request).
 */
#define XT_FE_QUEUE(vdev, ring, id, op, sector, nsec)                                                \
  xt_probe("fe_queue vdev=%u ring=%u id=%lu op=%c sector=%llu nsec=%u", (unsigned int)(vdev),        \
           (unsigned int)(ring), (unsigned long)(id), (char)(op), (unsigned long long)(sector), \
           (unsigned int)(nsec))

/* fe_notify: flush_requests(), in `if (notify)` just before notify_remote_via_irq(rinfo->irq). */
#define XT_FE_NOTIFY(vdev, ring) xt_probe("fe_notify vdev=%u ring=%u", (unsigned int)(vdev), (unsigned int)(ring))

/* fe_irq: first statement of blkif_interrupt() (rinfo = dev_id, info = rinfo->dev_info). */
#define XT_FE_IRQ(vdev, ring) xt_probe("fe_irq vdev=%u ring=%u", (unsigned int)(vdev), (unsigned int)(ring))

/*
 * fe_rsp: blkif_interrupt(), per response, after `id = bret.id` is checked and before the id goes
 * back to the free list: XT_FE_RSP(info->vdevice, xt_fe_ring(info, rinfo), id, bret.status).
 */
#define XT_FE_RSP(vdev, ring, id, status)                                                           \
  xt_probe("fe_rsp vdev=%u ring=%u id=%lu status=%d", (unsigned int)(vdev), (unsigned int)(ring), \
           (unsigned long)(id), (int)(status))

/*
 * fe_end: blkif_complete_rq(rq). By then the id is back on the free list and the request does not
 * carry it: add `unsigned long xt_id; unsigned int xt_ring;` to struct blkif_req, set them in
 * blkif_queue_rw_req (blkif_req(req)->xt_id = id; ...->xt_ring = xt_fe_ring(info, rinfo)), then
 * XT_FE_END(((struct blkfront_info *)rq->q->queuedata)->vdevice, blkif_req(rq)->xt_ring,
 * blkif_req(rq)->xt_id).
 */
#define XT_FE_END(vdev, ring, id) \
  xt_probe("fe_end vdev=%u ring=%u id=%lu", (unsigned int)(vdev), (unsigned int)(ring), (unsigned long)(id))

/* ---- dom0 kernel: xen-blkback ---------------------------------------------------------------- */
/* In blkback, with `ring` the struct xen_blkif_ring *: domid ring->blkif->domid, vdev
 * ring->blkif->vbd.handle, ring index xt_be_ring(ring). */

/* be_irq: xen_blkif_be_int(irq, dev_id), first statement (ring = dev_id). */
#define XT_BE_IRQ(domid, vdev, ring)                                                                \
  xt_probe("be_irq domid=%u vdev=%u ring=%u", (unsigned int)(domid), (unsigned int)(vdev), \
           (unsigned int)(ring))

/*
 * be_get_req: __do_block_io_op(), after the request is copied off the ring into `req` (both the
 * native and the 32/64-bit protocol branches): XT_BE_GET_REQ(..., req.u.rw.id, xt_blkif_op(&req),
 * xt_blkif_sector(&req), xt_blkif_nsec(&req)). An indirect request's segments are not on the ring
 * (xt_blkif_nsec gives 0 for them and the fe_queue link fails): use I/O sizes that need no indirect
 * segments (up to 11 segments, 44 KiB with 4 KiB pages), or move this call to
 * dispatch_rw_block_io() after the segments are read, with nsec = preq.nr_sects.
 */
#define XT_BE_GET_REQ(domid, vdev, ring, id, op, sector, nsec)                                        \
  xt_probe("be_get_req domid=%u vdev=%u ring=%u id=%llu op=%c sector=%llu nsec=%u", (unsigned int)(domid), \
           (unsigned int)(vdev), (unsigned int)(ring), (unsigned long long)(id), (char)(op),                \
           (unsigned long long)(sector), (unsigned int)(nsec))

/*
 * be_map: dispatch_rw_block_io(), after xen_blkbk_map_seg() returns:
 * nseg = nseg, new = grants mapped now, persistent = grants found in the persistent tree (count
 * them from pages[i]->persistent_gnt before and after the call).
 */
#define XT_BE_MAP(domid, vdev, ring, id, nseg, new_grants, persistent)                               \
  xt_probe("be_map domid=%u vdev=%u ring=%u id=%llu nseg=%u new=%u persistent=%u", (unsigned int)(domid), \
           (unsigned int)(vdev), (unsigned int)(ring), (unsigned long long)(id), (unsigned int)(nseg),     \
           (unsigned int)(new_grants), (unsigned int)(persistent))

/*
 * be_submit: dispatch_rw_block_io(), after the bios are built and BEFORE the first submit_bio()
 * (xen-probes.md decision 4): nbio = nbio.
 */
#define XT_BE_SUBMIT(domid, vdev, ring, id, nbio)                                                    \
  xt_probe("be_submit domid=%u vdev=%u ring=%u id=%llu nbio=%u", (unsigned int)(domid), (unsigned int)(vdev), \
           (unsigned int)(ring), (unsigned long long)(id), (unsigned int)(nbio))

/*
 * be_bio_done: __end_block_io_op(pending_req, error), inside `if (atomic_dec_and_test(
 * &pending_req->pendcnt))` (the last bio): id pending_req->id, ring pending_req->ring, status
 * pending_req->status (BLKIF_RSP_OKAY 0, or BLKIF_RSP_ERROR -1 once a bio failed), as be_rsp.
 */
#define XT_BE_BIO_DONE(domid, vdev, ring, id, status)                                                \
  xt_probe("be_bio_done domid=%u vdev=%u ring=%u id=%llu status=%d", (unsigned int)(domid), (unsigned int)(vdev), \
           (unsigned int)(ring), (unsigned long long)(id), (int)(status))

/*
 * be_rsp: make_response(ring, id, op, st), after RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(..., notify):
 * status = st (BLKIF_RSP_OKAY 0, BLKIF_RSP_ERROR -1, BLKIF_RSP_EOPNOTSUPP -2), notify = notify.
 */
#define XT_BE_RSP(domid, vdev, ring, id, status, notify)                                             \
  xt_probe("be_rsp domid=%u vdev=%u ring=%u id=%llu status=%d notify=%u", (unsigned int)(domid),        \
           (unsigned int)(vdev), (unsigned int)(ring), (unsigned long long)(id), (int)(status), \
           (unsigned int)!!(notify))

/* ---- dom0 kernel: blktap2 (out of tree) ------------------------------------------------------ */

/* tap_queue: blktap_device_do_request(), per request taken off the queue: minor tap->minor,
 * op xt_rq_op(rq), sector blk_rq_pos(rq), nsec blk_rq_sectors(rq). */
#define XT_TAP_QUEUE(minor, op, sector, nsec)                                                        \
  xt_probe("tap_queue minor=%u op=%c sector=%llu nsec=%u", (unsigned int)(minor), (char)(op), \
           (unsigned long long)(sector), (unsigned int)(nsec))

/* tap_submit: blktap_ring_submit_request(tap, request), once the request is on tapdisk's ring:
 * idx request->usr_idx, op/sector/nsec of request->rq as for tap_queue. */
#define XT_TAP_SUBMIT(minor, idx, op, sector, nsec)                                                  \
  xt_probe("tap_submit minor=%u idx=%u op=%c sector=%llu nsec=%u", (unsigned int)(minor), (unsigned int)(idx), \
           (char)(op), (unsigned long long)(sector), (unsigned int)(nsec))

/* tap_end: blktap_device_end_request(tap, request, error): idx request->usr_idx, status error. */
#define XT_TAP_END(minor, idx, status) \
  xt_probe("tap_end minor=%u idx=%u status=%d", (unsigned int)(minor), (unsigned int)(idx), (int)(status))

/* ---- helpers (kernel only: they need the kernel's blkif and block-layer definitions) ---------- */
#ifdef __KERNEL__
#include <linux/blk-mq.h>
#include <xen/interface/io/blkif.h>

/* The contract's op letter of a ring request's operation ('?' for one the contract does not name). */
static inline char xt_blkif_op_code(u8 operation)
{
	switch (operation) {
	case BLKIF_OP_READ: return 'R';
	case BLKIF_OP_WRITE: return 'W';
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_FLUSH_DISKCACHE: return 'F';
	case BLKIF_OP_DISCARD: return 'D';
	default: return '?';
	}
}

static inline char xt_blkif_op(const struct blkif_request *r)
{
	return xt_blkif_op_code(r->operation == BLKIF_OP_INDIRECT ? r->u.indirect.indirect_op : r->operation);
}

static inline u64 xt_blkif_sector(const struct blkif_request *r)
{
	switch (r->operation) {
	case BLKIF_OP_DISCARD: return r->u.discard.sector_number;
	case BLKIF_OP_INDIRECT: return r->u.indirect.sector_number;
	default: return r->u.rw.sector_number;
	}
}

/* Sectors of a direct request (sum of its segments), a discard's nr_sectors; 0 for an indirect one. */
static inline unsigned int xt_blkif_nsec(const struct blkif_request *r)
{
	unsigned int i, n = 0;

	if (r->operation == BLKIF_OP_DISCARD)
		return (unsigned int)r->u.discard.nr_sectors;
	if (r->operation == BLKIF_OP_INDIRECT)
		return 0;
	for (i = 0; i < r->u.rw.nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		n += r->u.rw.seg[i].last_sect - r->u.rw.seg[i].first_sect + 1;
	return n;
}

/* The op letter of a block-layer request (blktap2, whose ring carries READ/WRITE only). */
static inline char xt_rq_op(struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ: return 'R';
	case REQ_OP_WRITE: return 'W';
	case REQ_OP_FLUSH: return 'F';
	case REQ_OP_DISCARD: return 'D';
	default: return '?';
	}
}

/*
 * Index of a blkfront ring. In 6.1 the rings are one allocation of info->rinfo_size-byte entries
 * (struct blkfront_ring_info ends in a flexible shadow[] array), so plain pointer subtraction is
 * wrong; trees from before that change (no rinfo_size) use `rinfo - info->rinfo`.
 */
#define xt_fe_ring(info, rinfo) \
	((unsigned int)(((const char *)(rinfo) - (const char *)(info)->rinfo) / (info)->rinfo_size))

/* Index of a blkback ring (struct xen_blkif_ring *) within its device's rings. */
#define xt_be_ring(ring) ((unsigned int)((ring) - (ring)->blkif->rings))
#endif /* __KERNEL__ */

#endif /* XEN_PROBES_KERNEL_H */
