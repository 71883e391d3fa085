//! The model's closed event set, the jobs events name, and their packing into eight bytes.
//!
//! The vocabulary types of the other files that travel in events or name work (a goroutine's
//! job, a raft input, a disk job, a lock) are defined here, so that every mechanism file can
//! name them without importing another mechanism's file.

use super::ids::{ClientId, ConnId, MemberId, MsgId, ProcId, ReqId};
use crate::engine::Event;
use crate::goruntime::PId;

/// A goroutine with a burst of work to run: what the Go scheduler queues and a P runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuJob {
    /// A phase of a request's goroutine.
    Req(ReqId),
    /// One step of member `m`'s raft node goroutine (`node.run`).
    RaftStep(MemberId, RaftInput),
    /// One Ready of member `m`'s raft loop (`raftNode.start`).
    Ready(MemberId),
    /// Member `m`'s apply goroutine applies an entry.
    Apply(MemberId),
    /// Member `m`'s backend commit (bolt rebalance and spill).
    BackendCommit(MemberId),
    /// Member `m`'s `linearizableReadLoop`.
    ReadLoop(MemberId),
    /// Member `m`'s rafthttp stream writer to a peer.
    StreamWrite(MemberId, MemberId),
    /// Member `m`'s rafthttp stream reader from a peer.
    StreamRead(MemberId, MemberId),
    /// The benchmark's op-producer goroutine.
    Producer,
    /// A gRPC transport's reader goroutine.
    GrpcRead(Transport),
    /// A gRPC transport's writer goroutine (`loopyWriter`).
    GrpcWrite(Transport),
    /// Member `m`'s store FIFO scheduler goroutine, compacting (`compaction.rs`).
    Compact(MemberId),
}

/// Which end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client's (clientv3's subconnection to the member).
    Client,
    /// The member's.
    Server,
}

/// One end of one transport: a connection between the client's `conn` and `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// Which end.
    pub end: End,
    /// The client connection.
    pub conn: ConnId,
    /// The member at its other end.
    pub member: MemberId,
}

/// An input to a member's raft node goroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftInput {
    /// The member's own read loop asks for a read index (round `ctx`).
    ReadIndexLocal { ctx: u32 },
    /// The member proposes request `req`'s put.
    Propose { req: ReqId },
    /// A message from a peer, by its id in the network's message slab.
    Msg(MsgId),
    /// Raft's clock ticks (`node.Tick`): a heartbeat interval has passed.
    Tick,
}

/// A member's life: which run of its process (0 until a killed member is started again, then
/// one more at each start). A member's timers, disk completions and lock wake-ups carry the
/// life that scheduled them, so that those of a killed process do nothing in the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Life(pub u32);

/// A disk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskJob {
    /// The WAL fdatasync of a Ready with entries.
    Wal,
    /// One of the bolt commit's two fdatasyncs.
    Bolt,
}

/// A member's reader–writer lock, as an event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RwLockName {
    /// The treeIndex lock.
    Index,
    /// The backend's read-tx lock.
    ReadTx,
}

/// The model's closed event set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ev {
    /// Closed-loop client `c` looks for its next op.
    ClientNext(ClientId),
    /// Closed-loop client `c` passes the rate limiter.
    ClientGo(ClientId),
    /// The next open-loop arrival.
    OpenArrival,
    /// P `p` of process `proc` finishes the burst of the goroutine it runs; the burst's
    /// number on that P tells a burst cut short (the process paused or crashed) from the
    /// current one.
    CpuDone(ProcId, PId, u32),
    /// A message arrives at its destination.
    Deliver(MsgId),
    /// A disk operation of member `m`'s life finished.
    DiskDone(MemberId, DiskJob, Life),
    /// Member `m`'s backend commit timer, of a life.
    BackendTick(MemberId, Life),
    /// The next background put, of the arrival stream numbered `u32` (a rate change starts a
    /// new stream).
    WriteArrival(u32),
    /// The next expensive read, of the arrival stream numbered `u32`.
    ExpensiveArrival(u32),
    /// Member `m`'s lock asked to be woken when its announced readers have left.
    LockWake(MemberId, RwLockName, Life),
    /// The parked thread of P `p` of process `proc`, woken earlier, runs.
    ThreadWake(ProcId, PId),
    /// Process `proc`'s sysmon looks at the network poller.
    Sysmon(ProcId),
    /// Step `u32` of the run's timeline (`timeline.rs`): its start, or with
    /// `timeline::STEP_END`, its end.
    Timeline(u32),
    /// Request `r`'s client-side deadline is due, or its retry's backoff has passed.
    ClientTimer(ReqId),
    /// Member `m`'s raft ticker fires (`election.rs`).
    RaftTick(MemberId, Life),
    /// Member `m`'s read loop's ReadIndex retry timer, for round `u32` (`readloop.rs`).
    ReadIndexRetry(MemberId, u32),
    /// The kernel finished completing member `m`'s fdatasync on a core (`cpu.rs`).
    FsyncKernelDone(MemberId, DiskJob, Life),
    /// clientv3's connection `ConnId` tries again to connect to member `m` (gRPC's
    /// reconnect backoff, `request/subconn.rs`).
    Reconnect(ConnId, MemberId),
    /// Member `m`'s compactor's pause between bolt batches is over, of a life.
    CompactPause(MemberId, Life),
    /// The probe's ticker ticks (`probe.rs`).
    ProbeTick,
    /// The members' run queues are sampled, as `GODEBUG=schedtrace` does.
    SchedTrace,
}

impl Ev {
    /// The event's kind for the trace hash (its variant).
    fn kind(&self) -> u32 {
        match self {
            Ev::ClientNext(_) => 0,
            Ev::ClientGo(_) => 1,
            Ev::OpenArrival => 2,
            Ev::CpuDone(..) => 3,
            Ev::Deliver(_) => 4,
            Ev::DiskDone(..) => 5,
            Ev::BackendTick(..) => 6,
            Ev::WriteArrival(_) => 7,
            Ev::ExpensiveArrival(_) => 8,
            Ev::LockWake(..) => 9,
            Ev::ThreadWake(..) => 10,
            Ev::Sysmon(_) => 11,
            Ev::Timeline(_) => 12,
            Ev::ClientTimer(_) => 13,
            Ev::RaftTick(..) => 14,
            Ev::ReadIndexRetry(..) => 15,
            Ev::FsyncKernelDone(..) => 16,
            Ev::Reconnect(..) => 17,
            Ev::CompactPause(..) => 18,
            Ev::ProbeTick => 19,
            Ev::SchedTrace => 20,
        }
    }
}

/// An [`Ev`] packed into eight bytes, the form the event queue stores.
///
/// The model schedules [`Ev`]s (the scheduler converts them) and unpacks each event it handles,
/// so the enum never travels through the queue. Stored as an enum, its niche-packed 16-byte
/// layout made the compiler copy it through the stack in overlapping pieces on every pop, and
/// the reloads stalled on store forwarding. `head` holds, from bit 0: the kind (5 bits), the
/// disk job's or lock's kind (1, bit 7), then the member or the P (bits 16–23) and the process
/// (bits 24–31); `id` holds the one 32-bit field an event may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedEv {
    head: u32,
    id: u32,
}

const KIND_MASK: u32 = 0x1F;
const SUB_SHIFT: u32 = 7;
const MEMBER_SHIFT: u32 = 16;
const PROC_SHIFT: u32 = 24;

impl From<Ev> for PackedEv {
    #[inline(always)]
    fn from(ev: Ev) -> PackedEv {
        let kind = ev.kind();
        let at = |low: u8, proc: ProcId| {
            kind | u32::from(low) << MEMBER_SHIFT | u32::from(proc.0) << PROC_SHIFT
        };
        let (head, id) = match ev {
            Ev::ClientNext(c) | Ev::ClientGo(c) => (kind, c.0),
            Ev::Deliver(x) => (kind, x.0),
            Ev::OpenArrival | Ev::ProbeTick | Ev::SchedTrace => (kind, 0),
            Ev::WriteArrival(n) | Ev::ExpensiveArrival(n) | Ev::Timeline(n) => (kind, n),
            Ev::ClientTimer(r) => (kind, r.0),
            Ev::CpuDone(proc, p, n) => (at(p.0, proc), n),
            Ev::ThreadWake(proc, p) => (at(p.0, proc), 0),
            Ev::Sysmon(proc) => (at(0, proc), 0),
            Ev::DiskDone(m, job, life) | Ev::FsyncKernelDone(m, job, life) => {
                let sub = match job {
                    DiskJob::Wal => 0,
                    DiskJob::Bolt => 1,
                };
                (at(m.0, ProcId(0)) | sub << SUB_SHIFT, life.0)
            }
            Ev::BackendTick(m, life) | Ev::RaftTick(m, life) | Ev::CompactPause(m, life) => {
                (at(m.0, ProcId(0)), life.0)
            }
            Ev::ReadIndexRetry(m, ctx) => (at(m.0, ProcId(0)), ctx),
            Ev::Reconnect(c, m) => (at(m.0, ProcId(0)), c.0),
            Ev::LockWake(m, lock, life) => {
                let sub = match lock {
                    RwLockName::Index => 0,
                    RwLockName::ReadTx => 1,
                };
                (at(m.0, ProcId(0)) | sub << SUB_SHIFT, life.0)
            }
        };
        PackedEv { head, id }
    }
}

impl PackedEv {
    /// The event it packs.
    #[inline(always)]
    pub fn unpack(self) -> Ev {
        let PackedEv { head, id } = self;
        let low = (head >> MEMBER_SHIFT) as u8;
        let member = MemberId(low);
        let proc = ProcId((head >> PROC_SHIFT) as u8);
        let sub = (head >> SUB_SHIFT) & 1;
        let job = if sub == 0 {
            DiskJob::Wal
        } else {
            DiskJob::Bolt
        };
        match head & KIND_MASK {
            0 => Ev::ClientNext(ClientId(id)),
            1 => Ev::ClientGo(ClientId(id)),
            2 => Ev::OpenArrival,
            3 => Ev::CpuDone(proc, PId(low), id),
            4 => Ev::Deliver(MsgId(id)),
            5 => Ev::DiskDone(member, job, Life(id)),
            6 => Ev::BackendTick(member, Life(id)),
            7 => Ev::WriteArrival(id),
            8 => Ev::ExpensiveArrival(id),
            9 => Ev::LockWake(
                member,
                if sub == 0 {
                    RwLockName::Index
                } else {
                    RwLockName::ReadTx
                },
                Life(id),
            ),
            10 => Ev::ThreadWake(proc, PId(low)),
            11 => Ev::Sysmon(proc),
            12 => Ev::Timeline(id),
            13 => Ev::ClientTimer(ReqId(id)),
            14 => Ev::RaftTick(member, Life(id)),
            15 => Ev::ReadIndexRetry(member, id),
            16 => Ev::FsyncKernelDone(member, job, Life(id)),
            17 => Ev::Reconnect(ConnId(id), member),
            18 => Ev::CompactPause(member, Life(id)),
            19 => Ev::ProbeTick,
            _ => Ev::SchedTrace,
        }
    }
}

impl Event for PackedEv {
    #[inline(always)]
    fn kind(&self) -> u32 {
        self.head & KIND_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event survives packing, with the largest values its fields may hold, and keeps
    /// its kind for the trace hash.
    #[test]
    fn events_pack_and_unpack_unchanged() {
        let x = u32::MAX;
        let (m, pr, p) = (MemberId(u8::MAX), ProcId(u8::MAX), PId(u8::MAX));
        let all = vec![
            Ev::ClientNext(ClientId(x)),
            Ev::ClientGo(ClientId(7)),
            Ev::OpenArrival,
            Ev::CpuDone(pr, p, x),
            Ev::CpuDone(ProcId(0), PId(3), 9),
            Ev::Deliver(MsgId(x)),
            Ev::DiskDone(m, DiskJob::Wal, Life(x)),
            Ev::DiskDone(MemberId(3), DiskJob::Bolt, Life(0)),
            Ev::BackendTick(m, Life(x)),
            Ev::WriteArrival(x),
            Ev::ExpensiveArrival(3),
            Ev::LockWake(m, RwLockName::Index, Life(x)),
            Ev::LockWake(MemberId(2), RwLockName::ReadTx, Life(1)),
            Ev::ThreadWake(pr, p),
            Ev::ThreadWake(ProcId(1), PId(0)),
            Ev::Sysmon(pr),
            Ev::Timeline(x),
            Ev::ClientTimer(ReqId(x)),
            Ev::RaftTick(m, Life(x)),
            Ev::ReadIndexRetry(m, x),
            Ev::ReadIndexRetry(MemberId(1), 7),
            Ev::FsyncKernelDone(m, DiskJob::Bolt, Life(x)),
            Ev::FsyncKernelDone(MemberId(2), DiskJob::Wal, Life(2)),
            Ev::Reconnect(ConnId(x), m),
            Ev::Reconnect(ConnId(0), MemberId(1)),
            Ev::CompactPause(m, Life(x)),
            Ev::CompactPause(MemberId(0), Life(0)),
            Ev::ProbeTick,
            Ev::SchedTrace,
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for ev in all {
            let packed = PackedEv::from(ev);
            assert_eq!(packed.unpack(), ev);
            assert_eq!(packed.kind(), ev.kind());
            kinds.insert(ev.kind());
        }
        assert_eq!(kinds.len(), 21, "every kind is covered");
    }
}
