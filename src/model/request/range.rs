//! A range's server path after gRPC: the read mode (ReadIndex or not), the read transaction,
//! the treeIndex walk, the value fetch and the response encoding (`etcdserver/v3_server.go`
//! `Range`, `mvcc/kvstore_txn.go` `rangeKeys`).

use super::super::EtcdModel;
use super::super::event::{CpuJob, PackedEv, RwLockName};
use super::super::ids::ReqId;
use super::super::locks::{Lock, LockJob, Mode};
use super::super::params::{Consistency, Mechanisms, MemberCosts, RangeOp};
use super::super::stage::Stage;
use super::{Phase, ns};
use crate::engine::rng::SimRng;
use crate::engine::{Scheduler, SimDuration, SimTime};

impl EtcdModel {
    /// A range went through gRPC: a linearizable one joins the read loop, a serializable one
    /// goes straight on. Learners serve only serializable reads ("rpc not supported for
    /// learner").
    pub(super) fn range_received(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id].member;
        let consistency = self.consistency_of(id);
        if !self.p.is_voter(m) && consistency == Consistency::Linearizable {
            self.reqs[id].failed = true;
            self.respond(id, s);
            return;
        }
        if consistency == Consistency::Linearizable {
            self.reqs[id].phase = Phase::ReadIndex;
            self.read_loop_join(m, id, s);
        } else {
            self.after_read_index(id, s);
        }
    }

    /// Opens the read transaction: the read-tx lock, shared.
    pub(super) fn open_tx(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        r.phase = Phase::OpenTx;
        let m = r.member;
        self.enter(id, Stage::BackendWait, s.now());
        if self.lock(m, Lock::ReadTx, Mode::Shared, LockJob::Req(id), s) {
            self.tx_opened(id, s);
        }
    }

    /// The read transaction is open: from 3.4 the read buffer is copied and the lock goes;
    /// then the index walk, under the index read lock.
    ///
    /// When the index lock is free now, the copy runs as the first part of the walk's job
    /// (the read-tx lock goes at the copy's end without an event of its own, as the index
    /// lock does after the walk): the index lock is then taken before the copy rather than
    /// after it, and held while the job waits for a core, and a request saves a burst and its
    /// events. (Against always copying in a burst of its own, the loopback model with 64
    /// linearizable clients and 1,000 or 3,000 puts/s served 0.1% more reads, two seeds.)
    /// Otherwise the copy is a burst of its own, and the walk waits for the index lock after
    /// it, as in etcd.
    pub(super) fn tx_opened(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id].member;
        let mech = &self.p.mechanisms;
        // No copy owed to the walk's job unless one is set below.
        self.reqs[id].split[0] = SimDuration::ZERO;
        if mech.concurrent_read {
            // ConcurrentReadTx copies the read buffer under readTx.RLock, then lets go.
            let slots = self.members[m]
                .backend
                .buffer_to_copy(!mech.read_buffer_cache);
            let copy = ns(self.p.member_costs.read_buffer_copy_ns_per_slot * slots as f64);
            if copy > SimDuration::ZERO {
                let r = &mut self.reqs[id];
                r.split[0] = copy;
                if self.members[m].locks.index_free_for_reader() {
                    self.index_walk(id, s);
                } else {
                    r.phase = Phase::CopyBuffer;
                    self.run_on_member(id, s);
                }
                return;
            }
            self.unlock(m, Lock::ReadTx, Mode::Shared, s);
        }
        self.index_walk(id, s);
    }

    /// The read buffer is copied: the read-tx lock goes, and the walk follows.
    pub(super) fn buffer_copied(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].split[0] = SimDuration::ZERO;
        self.unlock(self.reqs[id].member, Lock::ReadTx, Mode::Shared, s);
        self.index_walk(id, s);
    }

    /// The index walk, under the treeIndex read lock.
    fn index_walk(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        r.phase = Phase::IndexWalk;
        let m = r.member;
        self.enter(id, Stage::LockWait, s.now());
        if self.lock(m, Lock::Index, Mode::Shared, LockJob::Req(id), s) {
            self.go(self.member_proc(m), CpuJob::Req(id), s);
        }
    }

    /// The index walk, the value fetch and the response encoding run on, on one core, as one
    /// job: the goroutine does not block between them. Their lengths are known now, so the
    /// locks they release on the way (the index read lock after the walk; before 3.4 the read-tx
    /// lock after the fetch) are released at those times without events of their own
    /// ([`crate::engine::RwLock::hold_until`]): a writer waiting on one is woken then. Returns
    /// the job's length; the request is left in its last phase, which the job's end finishes.
    pub(super) fn walk_fetch_encode(
        &mut self,
        id: ReqId,
        resp_bytes: u32,
        s: &mut Scheduler<PackedEv>,
    ) -> SimDuration {
        let now = s.now();
        let op = super::range_for(&self.w, &self.reqs[id]);
        let mut split = mvcc_costs(
            &self.p.member_costs,
            &self.p.mechanisms,
            op,
            resp_bytes,
            &mut self.rng_cpu,
        );
        let r = &mut self.reqs[id];
        // A read-buffer copy that runs first in this job (`tx_opened`): the read-tx lock goes
        // at its end, and it is charged with the walk, to the index stage.
        let copy = r.split[0];
        split[0] += copy;
        r.split = split;
        let m = r.member;
        if copy > SimDuration::ZERO {
            self.unlock_at(m, RwLockName::ReadTx, now + copy, s);
        }
        let walked = now + split[0];
        self.unlock_at(m, RwLockName::Index, walked, s);
        self.enter(id, Stage::Index, now);
        self.enter(id, Stage::Value, walked);
        let last = if self.p.mechanisms.concurrent_read {
            // From 3.4 the read-tx lock went when the transaction opened; the fetch and the
            // encoding follow the walk (the `Value` phase's end charges the encoding to gRPC).
            Phase::Value
        } else {
            // Before 3.4 the read transaction holds the read-tx lock through the fetch and ends
            // (`txn.End`) before gRPC encodes the response.
            let fetched = walked + split[1];
            self.unlock_at(m, RwLockName::ReadTx, fetched, s);
            self.enter(id, Stage::Grpc, fetched);
            Phase::Encode
        };
        self.reqs[id].phase = last;
        split[0] + split[1] + split[2]
    }

    /// The walk's job ended: its last `encode` ns were response encoding, so the value fetch
    /// ended where encoding began, and the encoding is charged to gRPC.
    pub(super) fn value_fetched(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &self.reqs[id];
        // A deadline that passed during the job (its process paused, the burst cut and
        // resumed) already charged the read's time up to it: nothing before that is charged
        // again.
        let fetched = SimTime(s.now().0 - r.split[2].0).max(r.mark);
        self.enter(id, Stage::Grpc, fetched);
        self.respond(id, s);
    }
}

/// Index walk, value fetch and response encoding of one range, by the version's semantics.
fn mvcc_costs(
    c: &MemberCosts,
    mech: &Mechanisms,
    op: &RangeOp,
    resp_bytes: u32,
    rng: &mut SimRng,
) -> [SimDuration; 3] {
    let range = op.keys_in_range;
    let limited = if op.limit == 0 {
        range
    } else {
        op.limit.min(range)
    };
    // Revisions collected into the result slice: v3.4 collects the whole range (limit applies
    // only when values are fetched); v3.5 pushes limit into the walk and counts count-only
    // ranges without collecting (the walk itself still visits the whole range).
    let collected = match (op.count_only, mech.count_revisions, mech.limit_pushdown) {
        (true, true, _) => 0,
        (true, false, _) | (false, _, false) => range,
        (false, _, true) => limited,
    };
    let fetched = if op.count_only { 0 } else { limited };
    let kv_bytes = u64::from(op.key_bytes) + u64::from(op.value_bytes);
    let depth = (op.total_keys.max(1) as f64).log2();
    let index = c.index.sample(rng)
        + ns(c.index_us_per_log2_key * depth * 1e3
            + c.index_visit_ns_per_key * range as f64
            + c.index_collect_ns_per_key * collected as f64);
    let value = c.value.sample(rng)
        + ns(
            c.value_ns_per_key * fetched as f64 + c.value_ns_per_byte * (fetched * kv_bytes) as f64
        );
    let encode = c.grpc_response.sample(rng) + ns(c.grpc_ns_per_byte * f64::from(resp_bytes));
    [index, value, encode]
}
