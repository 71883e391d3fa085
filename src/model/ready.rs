//! The Ready loop (`etcdserver/raft.go` `raftNode.start`): outputs of raft steps accumulate in
//! the node until the loop takes them as one Ready. It hands over the last ReadState first and
//! the committed entries to the apply goroutine; the leader sends its messages before
//! persisting, a follower after; new entries are persisted with one WAL fdatasync per Ready;
//! the next Ready starts only when this one is done. So under writes a ReadState waits for the
//! leader's fsync and a follower's heartbeat response waits for the follower's: that is how
//! write load lengthens ReadIndex rounds.

use super::EtcdModel;
use super::event::{CpuJob, DiskJob, PackedEv};
use super::ids::MemberId;
use super::net::Msg;
use super::raft::{ReadyContent, Role};
use crate::engine::{Scheduler, SimDuration};

/// A WAL record's framing and the hard state (term, vote, commit) beside the entries.
const HARD_STATE_BYTES: u64 = 64;

/// One member's Ready loop.
#[derive(Default)]
pub struct ReadyLoop {
    /// A Ready is being handled (on a core, or waiting for its WAL fsync).
    busy: bool,
    /// The messages of the Ready in hand.
    msgs: Vec<Msg>,
    /// The rest of the Ready in hand, until a core acts on it.
    content: Option<ReadyContent>,
    /// The Ready in hand has entries to persist.
    persist: bool,
    /// Bytes of the entries it persists (and the hard state).
    persist_bytes: u64,
    /// Its WAL fdatasync returned: the loop's next burst sends (a follower) and finishes it.
    synced: bool,
}

impl EtcdModel {
    /// Starts a Ready if the loop is idle and there is output: the Ready loop goroutine takes
    /// the output now, and acts on it once it gets a core ([`EtcdModel::ready_on_core`]).
    pub(super) fn maybe_start_ready(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &self.members[m];
        if mem.ready.busy || !mem.raft.has_ready() {
            return;
        }
        let (lo, hi) = mem.raft.unpersisted();
        let bytes = HARD_STATE_BYTES
            + (lo..=hi)
                .map(|i| self.log.get(i).map_or(0, |e| u64::from(e.bytes)))
                .sum::<u64>();
        let mem = &mut self.members[m];
        let rl = &mut mem.ready;
        rl.busy = true;
        let content = mem.raft.take_ready(&mut rl.msgs);
        rl.persist = content.persist;
        rl.persist_bytes = bytes;
        rl.synced = false;
        rl.content = Some(content);
        self.go(self.member_proc(m), CpuJob::Ready(m), s);
    }

    /// The Ready loop of `m` is on a core with its Ready: it hands the last ReadState to the
    /// read loop and the committed entries to the apply goroutine, and the leader sends its
    /// messages before persisting. Returns the CPU of the WAL fdatasync's call that the
    /// burst carries, when it persists (`disk.rs`).
    pub(super) fn ready_on_core(
        &mut self,
        m: MemberId,
        s: &mut Scheduler<PackedEv>,
    ) -> SimDuration {
        if self.members[m].ready.synced {
            // Back from the WAL fdatasync, on a core again: etcd's histogram stops here.
            let took = s.now() - self.disks.wal_since(m) + self.p.fsync_cpu.caller;
            self.m.wal_fsyncs += 1;
            self.m.wal_fsync_ns += u128::from(took.0);
            return SimDuration::ZERO;
        }
        let content = self.members[m]
            .ready
            .content
            .take()
            .expect("a Ready in hand");
        // The SoftState first (`updateLeadership`), then the ReadStates, then the entries.
        if content.new_leader {
            self.leader_changed(m, s);
        }
        if let Some(rs) = content.read_state {
            self.read_state_delivered(m, rs, s);
        }
        let (lo, hi) = content.apply;
        self.apply_enqueue(m, lo, hi, s);
        if self.members[m].raft.role == Role::Leader {
            self.flush_ready_msgs(m, s);
        }
        if self.members[m].ready.persist {
            self.p.fsync_cpu.caller
        } else {
            SimDuration::ZERO
        }
    }

    fn flush_ready_msgs(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mut msgs = std::mem::take(&mut self.members[m].ready.msgs);
        for msg in msgs.drain(..) {
            self.transport_send(m, msg, s);
        }
        self.members[m].ready.msgs = msgs;
    }

    /// The Ready loop of `m` has handled its Ready on a core: it persists new entries (one WAL
    /// fdatasync), or finishes at once.
    pub(super) fn ready_cpu_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.members[m].ready.synced {
            self.ready_done(m, s);
        } else if self.members[m].ready.persist {
            let bytes = self.members[m].ready.persist_bytes;
            self.disk(m, DiskJob::Wal, bytes, s);
        } else {
            self.ready_done(m, s);
        }
    }

    /// The WAL fdatasync of `m`'s Ready returned: the loop goes on once its thread has a P
    /// and a core (`exitsyscall`), to send (a follower) and finish the Ready.
    pub(super) fn wal_synced(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[m].ready.synced = true;
        self.go(self.member_proc(m), CpuJob::Ready(m), s);
    }

    /// The Ready loop of `m` finished a Ready: a follower sends now (after persisting; a
    /// leader sent before, and has nothing left).
    fn ready_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.flush_ready_msgs(m, s);
        self.members[m].ready.busy = false;
        self.maybe_start_ready(m, s);
    }
}
