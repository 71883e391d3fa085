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
use crate::engine::{Scheduler, SimDuration};

/// One stream goroutine's queue: messages to encode and write, or delivered ones to decode.
#[derive(Debug, Clone)]
struct Stream<T> {
    queue: Vec<T>,
    /// The goroutine is runnable or running (it will take what is queued).
    awake: bool,
    /// How many of `queue` its current burst handles (the rest came in during it).
    in_burst: usize,
}

impl<T> Default for Stream<T> {
    fn default() -> Self {
        Stream {
            queue: Vec::new(),
            awake: false,
            in_burst: 0,
        }
    }
}

/// One member's streams, by peer.
pub struct Transport {
    writers: IdVec<MemberId, Stream<Msg>>,
    readers: IdVec<MemberId, Stream<MsgId>>,
}

impl Transport {
    /// Streams to and from each of `members` members.
    pub fn new(members: usize) -> Transport {
        Transport {
            writers: (0..members).map(|_| Stream::default()).collect(),
            readers: (0..members).map(|_| Stream::default()).collect(),
        }
    }
}

impl EtcdModel {
    /// Member `m`'s Ready loop hands `msg` to its peer's stream writer.
    pub(super) fn transport_send(&mut self, m: MemberId, msg: Msg, s: &mut Scheduler<PackedEv>) {
        let Node::Member(peer) = msg.to else {
            unreachable!("raft messages go to members")
        };
        let w = &mut self.members[m].transport.writers[peer];
        w.queue.push(msg);
        if !w.awake {
            w.awake = true;
            self.go(self.member_proc(m), CpuJob::StreamWrite(m, peer), s);
        }
    }

    /// The stream writer of `m` to `peer` starts a burst: the messages queued now.
    pub(super) fn stream_write_cost(&mut self, m: MemberId, peer: MemberId) -> SimDuration {
        let w = &mut self.members[m].transport.writers[peer];
        w.in_burst = w.queue.len();
        let bytes: u64 = w.queue.iter().map(|x| u64::from(x.bytes)).sum();
        let c = &self.p.member_costs;
        c.stream_write.sample(&mut self.rng_cpu)
            + SimDuration::from_nanos_f64(c.raft_msg_ns_per_byte * bytes as f64)
    }

    /// The writer flushed: everything queued leaves; it blocks on `msgc` again.
    pub(super) fn stream_write_done(
        &mut self,
        m: MemberId,
        peer: MemberId,
        s: &mut Scheduler<PackedEv>,
    ) {
        let w = &mut self.members[m].transport.writers[peer];
        let msgs = std::mem::take(&mut w.queue);
        w.awake = false;
        for msg in msgs {
            self.send(msg, s);
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
        let r = &mut self.members[m].transport.readers[from];
        r.queue.push(id);
        if !r.awake {
            r.awake = true;
            self.go(self.member_proc(m), CpuJob::StreamRead(m, from), s);
        }
    }

    /// The stream reader of `m` from `peer` starts a burst: it decodes what has arrived.
    pub(super) fn stream_read_cost(&mut self, m: MemberId, peer: MemberId) -> SimDuration {
        let r = &mut self.members[m].transport.readers[peer];
        r.in_burst = r.queue.len();
        let ids = std::mem::take(&mut r.queue);
        let bytes: u64 = ids
            .iter()
            .map(|&id| u64::from(self.net.peek(id).bytes))
            .sum();
        self.members[m].transport.readers[peer].queue = ids;
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
        let r = &mut self.members[m].transport.readers[peer];
        let n = r.in_burst;
        let decoded: Vec<MsgId> = r.queue.drain(..n).collect();
        let more = !r.queue.is_empty();
        r.awake = more;
        for id in decoded {
            self.raft_submit(m, RaftInput::Msg(id), s);
        }
        if more {
            self.go(self.member_proc(m), CpuJob::StreamRead(m, peer), s);
        }
    }
}
