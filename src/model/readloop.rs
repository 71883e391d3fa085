//! `linearizableReadLoop` (`etcdserver/v3_server.go`): at most one ReadIndex round in flight
//! per member; reads that arrive meanwhile wait for the next round, and one round releases
//! every read queued before it, once the applied index reaches the read index
//! (`applyWait.Wait`).

use super::EtcdModel;
use super::event::{PackedEv, RaftInput};
use super::ids::{MemberId, ReqId};
use super::raft::ReadState;
use super::result::RoundSpan;
use super::stage::Stage;
use crate::engine::{Scheduler, SimTime};

/// One member's read loop.
#[derive(Default)]
pub struct ReadLoop {
    /// Reads waiting for the next round (the next notifier).
    waiting: Vec<ReqId>,
    /// Reads of the round in flight.
    round: Vec<ReqId>,
    /// A round is in flight.
    active: bool,
    /// The round's context: a ReadState for another one is out of date.
    ctx: u32,
    /// When the round began (for traces).
    start: SimTime,
    /// The read index the round waits for the apply loop to reach.
    wait_index: Option<u64>,
}

impl ReadLoop {
    /// Whether the round in flight waits for the applied index to reach `applied` or less.
    pub fn released_by(&self, applied: u64) -> bool {
        self.wait_index.is_some_and(|ix| ix <= applied)
    }
}

impl EtcdModel {
    /// A linearizable read joins member `m`'s read loop.
    pub(super) fn read_loop_join(&mut self, m: MemberId, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::ReadIndexBatch, s.now());
        self.members[m].read_loop.waiting.push(id);
        if !self.members[m].read_loop.active {
            self.start_round(m, s);
        }
    }

    fn start_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let rl = &mut self.members[m].read_loop;
        debug_assert!(rl.round.is_empty());
        std::mem::swap(&mut rl.waiting, &mut rl.round);
        rl.active = true;
        rl.start = s.now();
        rl.ctx = rl.ctx.wrapping_add(1);
        let ctx = rl.ctx;
        let round = std::mem::take(&mut rl.round);
        for &id in &round {
            self.enter(id, Stage::ReadIndexRound, s.now());
        }
        self.members[m].read_loop.round = round;
        self.raft_submit(m, RaftInput::ReadIndexLocal { ctx }, s);
    }

    /// The Ready loop hands member `m`'s read loop a ReadState.
    pub(super) fn read_state_delivered(
        &mut self,
        m: MemberId,
        rs: ReadState,
        s: &mut Scheduler<PackedEv>,
    ) {
        let applied = self.members[m].apply.applied;
        let rl = &mut self.members[m].read_loop;
        if !rl.active || rs.ctx != rl.ctx {
            return; // "ignored out-of-date read index response"
        }
        if applied >= rs.index {
            self.finish_round(m, s);
            return;
        }
        // applyWait.Wait(index): the apply loop releases the round at a batch boundary.
        rl.wait_index = Some(rs.index);
        let round = std::mem::take(&mut rl.round);
        for &id in &round {
            self.enter(id, Stage::ApplyWait, s.now());
        }
        self.members[m].read_loop.round = round;
    }

    /// The apply loop has applied up to a read index the round waited for.
    pub(super) fn read_index_applied(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[m].read_loop.wait_index = None;
        self.finish_round(m, s);
    }

    /// Releases every read of the round, then starts the next round if reads are waiting.
    fn finish_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mut round = std::mem::take(&mut self.members[m].read_loop.round);
        let span = RoundSpan {
            member: m,
            start_ns: self.members[m].read_loop.start.0,
            end_ns: s.now().0,
            reads: round.len() as u32,
        };
        self.trace.round(self.m.rounds, span);
        self.m.round_finished(round.len());
        for id in round.drain(..) {
            self.after_read_index(id, s);
        }
        let rl = &mut self.members[m].read_loop;
        rl.round = round;
        rl.active = false;
        if !rl.waiting.is_empty() {
            self.start_round(m, s);
        }
    }
}
