//! gRPC-go's HTTP/2 transport (`google.golang.org/grpc/internal/transport`): on each end of a
//! connection, a reader goroutine and a writer goroutine.
//!
//! - **The writer** (`loopyWriter.run`): a goroutine that wants to send puts its frames on the
//!   transport's control buffer (`controlbuf.put`), which readies the writer if it waits; the
//!   writer frames everything queued and writes it with one system call, so messages queued
//!   while it works leave together.
//! - **The reader** (`http2Server.HandleStreams`, `http2Client.reader`): woken by the network
//!   poller when bytes arrive; it parses every frame it has read. On a member each request
//!   becomes a stream handled by a goroutine of its own (`go s.handleStream`: the new goroutine
//!   takes the reader's `runnext`); on the client each response wakes the goroutine waiting on
//!   its stream (a hand-off).
//!
//! - **The writer's yield** (grpc-go 1.12.0 and later, `loopyWriter.run`): when what it has
//!   framed is under `minBatchSize` (1,000 bytes) as it runs out of work, it calls
//!   `runtime.Gosched()` once before writing, which puts it on its process's global run queue:
//!   it writes when its P (or another) next looks there, after the P's local work or at the
//!   61st schedule, taking what was queued meanwhile into the same write.
//!
//! So under load one burst of a reader or writer carries many messages, and the per-request
//! CPU of both falls; with one request at a time each costs a wake-up and a system call of its
//! own. A connection to each member it talks to is a transport of its own (a clientv3
//! subconnection). Requests through the gRPC proxy skip these goroutines (the proxy is modelled
//! by its costs alone).

use super::EtcdModel;
use super::event::{CpuJob, End, PackedEv, Transport};
use super::ids::{Id, ReqId};
use super::net::{Msg, MsgKind, Node};
use super::stage::Stage;
use super::stream::Stream;
use crate::engine::{Scheduler, SimDuration};

/// Both ends' goroutines of every transport.
pub struct Grpc {
    /// By `conn * members + member`: the client's end, then the member's.
    ends: Vec<[Ends; 2]>,
    members: usize,
    /// The requests of the burst in hand, kept from burst to burst so that none allocates.
    scratch: Vec<ReqId>,
}

/// One end's reader and writer.
#[derive(Debug, Clone, Default)]
struct Ends {
    reader: Stream<ReqId>,
    writer: Stream<ReqId>,
    /// The writer's burst in hand is its yield (`runtime.Gosched`), not a write.
    yielding: bool,
    /// The writer has yielded since it last wrote: it writes when it next runs out of work.
    yielded: bool,
}

/// `loopyWriter`'s `minBatchSize`: below this many buffered bytes the writer yields once
/// before it writes. The model counts the messages' bytes; grpc-go counts its buffer's
/// (`framer.writer.offset`), which adds the HTTP/2 frame headers and, after a large message
/// flushed its buffer on the way, holds only the rest: near 1,000 bytes, or after a large
/// write, the two can differ.
const MIN_BATCH_BYTES: u64 = 1_000;

/// A `runtime.Gosched()` with its return through the scheduler: 60 ns, timed on this
/// project's machine (`harness/go/src/goschedcost`: 59.5 to 60.1 ns over three runs of
/// 2,000,000, alone on one P).
const GOSCHED: SimDuration = SimDuration(60);

impl Grpc {
    /// The transports of `conns` connections to each of `members` members.
    pub fn new(conns: u32, members: usize) -> Grpc {
        Grpc {
            ends: vec![Default::default(); conns as usize * members],
            members,
            scratch: Vec::new(),
        }
    }

    /// Member `m`'s process was started again: its ends of every transport start idle (what
    /// they held was the killed process's).
    pub fn reset_member(&mut self, m: super::ids::MemberId) {
        for conn in self.ends.chunks_mut(self.members) {
            conn[m.index()][1] = Ends::default();
        }
    }

    fn ends(&mut self, t: Transport) -> &mut Ends {
        let i = t.conn.index() * self.members + t.member.index();
        &mut self.ends[i][match t.end {
            End::Client => 0,
            End::Server => 1,
        }]
    }
}

impl EtcdModel {
    /// The transport of request `id` at `end`.
    fn transport_of(&self, id: ReqId, end: End) -> Transport {
        let r = &self.reqs[id];
        Transport {
            end,
            conn: r.conn,
            member: r.member,
        }
    }

    /// The process an end runs in.
    fn end_proc(&self, t: Transport) -> super::ids::ProcId {
        match t.end {
            End::Client => self.client_proc(),
            End::Server => self.member_proc(t.member),
        }
    }

    /// Request `id`'s message (the request from the client, the response from the member)
    /// goes on its transport's control buffer at `end`: the writer is readied if it waits.
    pub(super) fn grpc_send(&mut self, id: ReqId, end: End, s: &mut Scheduler<PackedEv>) {
        let t = self.transport_of(id, end);
        self.enter(id, queue_stage(end), s.now());
        if self.grpc.ends(t).writer.push(id) {
            self.go(self.end_proc(t), CpuJob::GrpcWrite(t), s);
        }
    }

    /// Request `id`'s message reached `end` of its transport: the reader is woken by the
    /// network poller, unless it is awake already.
    pub(super) fn grpc_arrived(&mut self, id: ReqId, end: End, s: &mut Scheduler<PackedEv>) {
        let t = self.transport_of(id, end);
        self.enter(id, queue_stage(end), s.now());
        if self.grpc.ends(t).reader.push(id) {
            self.go(self.end_proc(t), CpuJob::GrpcRead(t), s);
        }
    }

    /// A burst of `t`'s writer or reader starts: what it handles enters the transport stage.
    pub(super) fn grpc_cost(
        &mut self,
        t: Transport,
        write: bool,
        now: crate::engine::SimTime,
    ) -> SimDuration {
        let mut ids = std::mem::take(&mut self.grpc.scratch);
        let ends = self.grpc.ends(t);
        ids.clear();
        ids.extend_from_slice(if write {
            ends.writer.start_burst()
        } else {
            ends.reader.start_burst()
        });
        for &id in &ids {
            self.enter(id, Stage::Transport, now);
        }
        // Summed only until the batch is large enough: then it is written at once.
        let yields =
            write && self.p.mechanisms.grpc_writer_yields && !self.grpc.ends(t).yielded && {
                ids.iter()
                    .try_fold(0u64, |framed, &id| {
                        let framed = framed + u64::from(self.message_bytes(id, t.end));
                        (framed < MIN_BATCH_BYTES).then_some(framed)
                    })
                    .is_some()
            };
        self.grpc.scratch = ids;
        if write {
            self.grpc.ends(t).yielding = yields;
        }
        if yields {
            return GOSCHED;
        }
        let (c, rng) = (&self.p, &mut self.rng_cpu);
        match (t.end, write) {
            (End::Client, true) => c.client_costs.transport_write.sample(rng),
            (End::Client, false) => c.client_costs.transport_read.sample(rng),
            (End::Server, true) => c.member_costs.transport_write.sample(rng),
            (End::Server, false) => c.member_costs.transport_read.sample(rng),
        }
    }

    /// The bytes of request `id`'s message that `end` writes.
    fn message_bytes(&self, id: ReqId, end: End) -> u32 {
        match end {
            End::Client => self.request_bytes(id),
            End::Server => self.response_bytes(id),
        }
    }

    /// `t`'s writer wrote its burst's messages; it goes on if more were queued meanwhile. A
    /// yield writes nothing: the writer goes to its process's global run queue, and what it
    /// framed waits there with it.
    pub(super) fn grpc_write_done(&mut self, t: Transport, s: &mut Scheduler<PackedEv>) {
        let mut ids = std::mem::take(&mut self.grpc.scratch);
        let ends = self.grpc.ends(t);
        if std::mem::take(&mut ends.yielding) {
            ends.yielded = true;
            ids.clear();
            ids.extend_from_slice(ends.writer.burst());
            ends.writer.keep_burst();
            let (now, stage) = (s.now(), queue_stage(t.end));
            for &id in &ids {
                self.enter(id, stage, now);
            }
            self.grpc.scratch = ids;
            self.preempt(self.end_proc(t), CpuJob::GrpcWrite(t), now);
            return;
        }
        ends.yielded = false;
        let more = ends.writer.finish_burst(&mut ids);
        for &id in &ids {
            let msg = match t.end {
                End::Client => Msg {
                    from_host: self.p.client_host,
                    from: Node::Client,
                    to: Node::Member(t.member),
                    kind: MsgKind::Request(id),
                    bytes: self.request_bytes(id),
                    term: 0,
                },
                End::Server => Msg {
                    from_host: self.members[t.member].host,
                    from: Node::Member(t.member),
                    to: Node::Client,
                    kind: MsgKind::Response(id),
                    bytes: self.response_bytes(id),
                    term: 0,
                },
            };
            self.send(msg, s);
        }
        self.grpc.scratch = ids;
        if more {
            self.go(self.end_proc(t), CpuJob::GrpcWrite(t), s);
        }
    }

    /// `t`'s reader parsed its burst's messages: a member starts a handler goroutine for each
    /// request, the client wakes the goroutine waiting on each response.
    pub(super) fn grpc_read_done(&mut self, t: Transport, s: &mut Scheduler<PackedEv>) {
        let mut ids = std::mem::take(&mut self.grpc.scratch);
        let more = self.grpc.ends(t).reader.finish_burst(&mut ids);
        for &id in &ids {
            match t.end {
                End::Server => self.request_at_member(id, s),
                End::Client => self.response_at_client(id, s),
            }
        }
        self.grpc.scratch = ids;
        if more {
            self.go(self.end_proc(t), CpuJob::GrpcRead(t), s);
        }
    }
}

/// Waiting for a transport goroutine is waiting for a core of its process.
fn queue_stage(end: End) -> Stage {
    match end {
        End::Client => Stage::ClientQueue,
        End::Server => Stage::CpuQueue,
    }
}
