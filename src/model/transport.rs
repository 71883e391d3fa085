//! rafthttp (`etcdserver/api/rafthttp`): how raft messages leave and reach a member.
//!
//! - **Sending**: the Ready loop's `transport.Send` puts each message on its peer's stream
//!   writer channel (`msgc`), which readies the writer goroutine (`streamWriter.run`); the
//!   writer encodes what is queued and flushes with one write when `msgc` is empty, so messages
//!   queued while it works leave together.
//! - **Receiving**: the peer's stream reader goroutine (`streamReader.run`) is woken by the
//!   network poller when bytes arrive, decodes every message it can, and hands each to the raft
//!   node (`r.Process` → `node.Step`, through `peer`'s `recvc`): a channel hand-off.
//!
//! Simplifications, stated: one stream per peer and direction (etcd keeps two, `msgappv2` for
//! `MsgApp` and `message` for the rest, each with its own goroutines and connection); the
//! goroutine between a reader and `Process` (`peer.go`'s receive loop) is folded into the
//! reader's burst.

use super::EtcdModel;
use super::event::{CpuJob, PackedEv, RaftInput};
use super::ids::{IdVec, MemberId, MsgId};
use super::net::{Msg, Node};
use super::result::RoundHop;
use super::stream::Stream;
use crate::engine::{Scheduler, SimDuration};

/// One member's streams, by peer.
pub struct Transport {
    writers: IdVec<MemberId, Stream<Msg>>,
    readers: IdVec<MemberId, Stream<MsgId>>,
    /// A burst's messages, kept from burst to burst so that none allocates.
    flushed: Vec<Msg>,
    decoded: Vec<MsgId>,
}

impl Transport {
    /// Streams to and from each of `members` members.
    pub fn new(members: usize) -> Transport {
        Transport {
            writers: (0..members).map(|_| Stream::default()).collect(),
            readers: (0..members).map(|_| Stream::default()).collect(),
            flushed: Vec::new(),
            decoded: Vec::new(),
        }
    }
}

impl EtcdModel {
    /// Member `m`'s Ready loop hands `msg` to its peer's stream writer.
    pub(super) fn transport_send(&mut self, m: MemberId, msg: Msg, s: &mut Scheduler<PackedEv>) {
        let Node::Member(peer) = msg.to else {
            unreachable!("raft messages go to members")
        };
        if self.members[m].transport.writers[peer].push(msg) {
            self.go(self.member_proc(m), CpuJob::StreamWrite(m, peer), s);
        }
    }

    /// The stream writer of `m` to `peer` starts a burst: the messages queued now.
    pub(super) fn stream_write_cost(&mut self, m: MemberId, peer: MemberId) -> SimDuration {
        let bytes: u64 = self.members[m].transport.writers[peer]
            .start_burst()
            .iter()
            .map(|x| u64::from(x.bytes))
            .sum();
        let c = &self.p.member_costs;
        c.stream_write.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.raft_msg_ns_per_byte * bytes as f64)
    }

    /// The writer flushed its burst's messages; it goes on with what came in meanwhile, or
    /// blocks on `msgc` again.
    pub(super) fn stream_write_done(
        &mut self,
        m: MemberId,
        peer: MemberId,
        s: &mut Scheduler<PackedEv>,
    ) {
        let mut msgs = std::mem::take(&mut self.members[m].transport.flushed);
        let more = self.members[m].transport.writers[peer].finish_burst(&mut msgs);
        for &msg in &msgs {
            if let super::net::MsgKind::Heartbeat { origin, ctx, .. } = msg.kind {
                self.members[origin]
                    .read_loop
                    .mark(ctx, RoundHop::Heartbeats.end(), s.now());
            }
            self.send(msg, s);
        }
        self.members[m].transport.flushed = msgs;
        if more {
            self.go(self.member_proc(m), CpuJob::StreamWrite(m, peer), s);
        }
    }

    /// Raft message `id` from `from` reached member `m`: its stream reader is woken by the
    /// network poller, unless it is awake already.
    pub(super) fn raft_msg_arrived(
        &mut self,
        m: MemberId,
        from: MemberId,
        id: MsgId,
        s: &mut Scheduler<PackedEv>,
    ) {
        if self.members[m].transport.readers[from].push(id) {
            self.go(self.member_proc(m), CpuJob::StreamRead(m, from), s);
        }
    }

    /// The stream reader of `m` from `peer` starts a burst: it decodes what has arrived.
    pub(super) fn stream_read_cost(&mut self, m: MemberId, peer: MemberId) -> SimDuration {
        let net = &self.net;
        let bytes: u64 = self.members[m].transport.readers[peer]
            .start_burst()
            .iter()
            .map(|&id| u64::from(net.peek(id).bytes))
            .sum();
        let c = &self.p.member_costs;
        c.stream_read.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.raft_msg_ns_per_byte * bytes as f64)
    }

    /// The reader decoded its burst's messages: each goes to the raft node. What arrived
    /// during the burst is read in the next one, without waiting for the poller again.
    pub(super) fn stream_read_done(
        &mut self,
        m: MemberId,
        peer: MemberId,
        s: &mut Scheduler<PackedEv>,
    ) {
        let mut decoded = std::mem::take(&mut self.members[m].transport.decoded);
        let more = self.members[m].transport.readers[peer].finish_burst(&mut decoded);
        for &id in &decoded {
            self.raft_submit(m, RaftInput::Msg(id), s);
        }
        self.members[m].transport.decoded = decoded;
        if more {
            self.go(self.member_proc(m), CpuJob::StreamRead(m, peer), s);
        }
    }
}
