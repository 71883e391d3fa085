//! A put's server path (`etcdserver/v3_server.go` `Put`, `processInternalRaftRequestOnce`):
//! the size and apply-lag limits, the proposal (built, then stepped into raft; a follower
//! forwards it to the leader as `MsgProp`), and the answer once the member has applied it.
//! Replication and apply themselves are `replication.rs` and `apply.rs`.

use super::super::EtcdModel;
use super::super::event::{PackedEv, RaftInput};
use super::super::ids::{MemberId, ReqId};
use super::super::stage::Stage;
use super::Phase;
use crate::engine::Scheduler;

impl EtcdModel {
    /// How far member `m`'s applied index trails its commit index.
    pub(super) fn apply_lag(&self, m: MemberId) -> u64 {
        let mem = &self.members[m];
        mem.raft.commit.saturating_sub(mem.apply.applied)
    }

    /// A put reached its member and went through gRPC: check the limits, then auth, then
    /// propose.
    pub(super) fn put_received(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id].member;
        let size = u64::from(self.request_bytes(id));
        if size > self.p.write.max_request_bytes
            || self.apply_lag(m) > self.p.write.max_apply_lag
            || !self.p.is_voter(m)
        {
            // etcdserver: request is too large / too many requests / not supported for learner.
            self.reqs[id].failed = true;
            self.respond(id, s);
            return;
        }
        self.after_read_index(id, s);
    }

    /// The token (if any) is valid: build the proposal.
    pub(super) fn propose(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].phase = Phase::Propose;
        self.run_on_member(id, s);
    }

    /// The proposal is built: it enters raft.
    pub(super) fn proposed(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::Replicate, s.now());
        let r = &mut self.reqs[id];
        r.phase = Phase::Replicate;
        let m = r.member;
        self.raft_submit(m, RaftInput::Propose { req: id }, s);
    }

    /// Raft dropped request `id`'s proposal (`ErrProposalDropped`: its member knows no
    /// leader): the put fails.
    pub(in super::super) fn proposal_dropped(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].failed = true;
        self.respond(id, s);
    }

    /// The member has applied request `id`'s put: answer the client.
    pub(in super::super) fn put_applied(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.reqs[id].phase = Phase::WriteRespond;
        self.run_on_member(id, s);
    }
}
