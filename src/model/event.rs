//! The model's closed event set, the jobs events name, and their packing into eight bytes.
//!
//! The vocabulary types of the other files that travel in events (a core's job, a raft
//! input, a disk job, a lock) are defined here, so that every mechanism file can name them
//! without importing another mechanism's file.

use super::ids::{ClientId, HostId, MemberId, MsgId, ReqId};
use crate::engine::Event;

/// Work that occupies a core.
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
}

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
    /// The op producer has produced one op.
    ProducerTick,
    /// A core of `host` finishes `job`.
    CpuDone(HostId, CpuJob),
    /// A message arrives at its destination.
    Deliver(MsgId),
    /// A disk operation of member `m` finished.
    DiskDone(MemberId, DiskJob),
    /// Member `m`'s backend commit timer.
    BackendTick(MemberId),
    /// The next background put.
    WriteArrival,
    /// The next expensive read.
    ExpensiveArrival,
    /// Member `m`'s lock asked to be woken when its announced readers have left.
    LockWake(MemberId, RwLockName),
}

impl Ev {
    /// The event's kind for the trace hash (its variant).
    fn kind(&self) -> u32 {
        match self {
            Ev::ClientNext(_) => 0,
            Ev::ClientGo(_) => 1,
            Ev::OpenArrival => 2,
            Ev::ProducerTick => 3,
            Ev::CpuDone(..) => 4,
            Ev::Deliver(_) => 5,
            Ev::DiskDone(..) => 6,
            Ev::BackendTick(_) => 7,
            Ev::WriteArrival => 8,
            Ev::ExpensiveArrival => 9,
            Ev::LockWake(..) => 10,
        }
    }
}

/// An [`Ev`] packed into eight bytes, the form the event queue stores.
///
/// The model schedules [`Ev`]s (the scheduler converts them) and unpacks each event it handles,
/// so the enum never travels through the queue. Stored as an enum, its niche-packed 16-byte
/// layout made the compiler copy it through the stack in overlapping pieces on every pop, and
/// the reloads stalled on store forwarding. `head` holds, from bit 0: the kind (4 bits), the
/// CPU job's kind (3), the raft input's or disk job's kind (2), then the member (bits 16–23)
/// and the host (bits 24–31); `id` holds the one 32-bit field an event may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedEv {
    head: u32,
    id: u32,
}

const JOB_SHIFT: u32 = 4;
const SUB_SHIFT: u32 = 7;
const MEMBER_SHIFT: u32 = 16;
const HOST_SHIFT: u32 = 24;

impl From<Ev> for PackedEv {
    #[inline(always)]
    fn from(ev: Ev) -> PackedEv {
        let kind = ev.kind();
        let at = |member: MemberId, host: HostId| {
            kind | u32::from(member.0) << MEMBER_SHIFT | u32::from(host.0) << HOST_SHIFT
        };
        let none = (MemberId(0), HostId(0));
        let (head, id) = match ev {
            Ev::ClientNext(c) | Ev::ClientGo(c) => (kind, c.0),
            Ev::Deliver(x) => (kind, x.0),
            Ev::OpenArrival | Ev::ProducerTick | Ev::WriteArrival | Ev::ExpensiveArrival => {
                (kind, 0)
            }
            Ev::CpuDone(h, job) => {
                let (job_kind, sub, m, x) = match job {
                    CpuJob::Req(x) => (0, 0, none.0, x.0),
                    CpuJob::RaftStep(m, RaftInput::ReadIndexLocal { ctx }) => (1, 0, m, ctx),
                    CpuJob::RaftStep(m, RaftInput::Propose { req }) => (1, 1, m, req.0),
                    CpuJob::RaftStep(m, RaftInput::Msg(x)) => (1, 2, m, x.0),
                    CpuJob::Ready(m) => (2, 0, m, 0),
                    CpuJob::Apply(m) => (3, 0, m, 0),
                    CpuJob::BackendCommit(m) => (4, 0, m, 0),
                };
                (at(m, h) | job_kind << JOB_SHIFT | sub << SUB_SHIFT, x)
            }
            Ev::DiskDone(m, job) => {
                let sub = match job {
                    DiskJob::Wal => 0,
                    DiskJob::Bolt => 1,
                };
                (at(m, none.1) | sub << SUB_SHIFT, 0)
            }
            Ev::BackendTick(m) => (at(m, none.1), 0),
            Ev::LockWake(m, lock) => {
                let sub = match lock {
                    RwLockName::Index => 0,
                    RwLockName::ReadTx => 1,
                };
                (at(m, none.1) | sub << SUB_SHIFT, 0)
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
        let member = MemberId((head >> MEMBER_SHIFT) as u8);
        let host = HostId((head >> HOST_SHIFT) as u8);
        let sub = (head >> SUB_SHIFT) & 3;
        match head & 0xF {
            0 => Ev::ClientNext(ClientId(id)),
            1 => Ev::ClientGo(ClientId(id)),
            2 => Ev::OpenArrival,
            3 => Ev::ProducerTick,
            4 => Ev::CpuDone(
                host,
                match (head >> JOB_SHIFT) & 7 {
                    0 => CpuJob::Req(ReqId(id)),
                    1 => CpuJob::RaftStep(
                        member,
                        match sub {
                            0 => RaftInput::ReadIndexLocal { ctx: id },
                            1 => RaftInput::Propose { req: ReqId(id) },
                            _ => RaftInput::Msg(MsgId(id)),
                        },
                    ),
                    2 => CpuJob::Ready(member),
                    3 => CpuJob::Apply(member),
                    _ => CpuJob::BackendCommit(member),
                },
            ),
            5 => Ev::Deliver(MsgId(id)),
            6 => Ev::DiskDone(
                member,
                if sub == 0 {
                    DiskJob::Wal
                } else {
                    DiskJob::Bolt
                },
            ),
            7 => Ev::BackendTick(member),
            8 => Ev::WriteArrival,
            9 => Ev::ExpensiveArrival,
            _ => Ev::LockWake(
                member,
                if sub == 0 {
                    RwLockName::Index
                } else {
                    RwLockName::ReadTx
                },
            ),
        }
    }
}

impl Event for PackedEv {
    #[inline(always)]
    fn kind(&self) -> u32 {
        self.head & 0xF
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
        let (m, h) = (MemberId(u8::MAX), HostId(u8::MAX));
        let mut all = vec![
            Ev::ClientNext(ClientId(x)),
            Ev::ClientGo(ClientId(7)),
            Ev::OpenArrival,
            Ev::ProducerTick,
            Ev::Deliver(MsgId(x)),
            Ev::DiskDone(m, DiskJob::Wal),
            Ev::DiskDone(MemberId(3), DiskJob::Bolt),
            Ev::BackendTick(m),
            Ev::WriteArrival,
            Ev::ExpensiveArrival,
            Ev::LockWake(m, RwLockName::Index),
            Ev::LockWake(MemberId(2), RwLockName::ReadTx),
        ];
        for job in [
            CpuJob::Req(ReqId(x)),
            CpuJob::RaftStep(m, RaftInput::ReadIndexLocal { ctx: x }),
            CpuJob::RaftStep(MemberId(1), RaftInput::Propose { req: ReqId(x) }),
            CpuJob::RaftStep(m, RaftInput::Msg(MsgId(x))),
            CpuJob::Ready(m),
            CpuJob::Apply(m),
            CpuJob::BackendCommit(m),
        ] {
            all.push(Ev::CpuDone(h, job));
            all.push(Ev::CpuDone(HostId(0), job));
        }
        let mut kinds = std::collections::BTreeSet::new();
        for ev in all {
            let packed = PackedEv::from(ev);
            assert_eq!(packed.unpack(), ev);
            assert_eq!(packed.kind(), ev.kind());
            kinds.insert(ev.kind());
        }
        assert_eq!(kinds.len(), 11, "every kind is covered");
    }
}
