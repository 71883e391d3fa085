//! An etcd member: the parts etcd has, each owning its state (its disk, which members on one
//! host may share, is in `disk.rs`).

use super::apply::ApplyLoop;
use super::backend::Backend;
use super::event::Life;
use super::ids::{HostId, MemberId};
use super::locks::Locks;
use super::raft::RaftNode;
use super::readloop::ReadLoop;
use super::ready::ReadyLoop;
use super::transport::Transport;
use crate::engine::SimTime;

/// One member.
pub struct Member {
    /// The host the member runs on.
    pub host: HostId,
    /// The raft node (`raft/node.go`).
    pub raft: RaftNode,
    /// The Ready loop (`raftNode.start`).
    pub ready: ReadyLoop,
    /// `linearizableReadLoop`.
    pub read_loop: ReadLoop,
    /// The apply goroutine.
    pub apply: ApplyLoop,
    /// The mvcc backend's batching and commits.
    pub backend: Backend,
    /// Its mutexes and reader–writer locks.
    pub locks: Locks,
    /// Its rafthttp streams.
    pub transport: Transport,
    /// Its store's compaction jobs.
    pub compactor: super::compaction::Compactor,
    /// Killed (SIGKILL): it does not run until it is started again, and what is sent to it
    /// meanwhile is lost.
    pub dead: bool,
    /// Which run of its process this is (`restart.rs`).
    pub life: Life,
    /// Killed, its process started again: it listens, and clients' tries to connect wait
    /// until it serves.
    pub listening: bool,
    /// It serves its gRPC API (a member killed and started again: once it has published
    /// itself, `restart.rs`).
    pub serving: bool,
    /// Started again: its publish entry goes after this index, the leader's last when it
    /// learnt of the leader (`restart.rs`).
    pub publish_after: Option<u64>,
    /// Cut off from its peers until then (a timeline's partition).
    pub cut_until: crate::engine::SimTime,
    /// Its peer links' extra one-way delay, and until when (a timeline's latency step).
    pub slow_links: (crate::engine::SimDuration, crate::engine::SimTime),
}

impl Member {
    /// A member on `host` whose log is committed and applied up to `index`, in a cluster of
    /// `members` led by `leader`.
    pub fn new(host: HostId, index: u64, members: usize, leader: MemberId, me: MemberId) -> Member {
        Member {
            host,
            dead: false,
            life: Life(0),
            listening: true,
            serving: true,
            publish_after: None,
            cut_until: SimTime::ZERO,
            slow_links: (crate::engine::SimDuration::ZERO, SimTime::ZERO),
            raft: RaftNode::new(index, members, leader, me),
            ready: ReadyLoop::default(),
            read_loop: ReadLoop::default(),
            apply: ApplyLoop::new(index),
            backend: Backend::new(),
            locks: Locks::new(SimTime::ZERO),
            transport: Transport::new(members),
            compactor: Default::default(),
        }
    }

    /// Member `me` (of `members`) killed and started again: its parts start over from what it
    /// persisted (`restart.rs`), in a new life, measured from `since`.
    pub fn restart(&mut self, me: MemberId, members: usize, since: SimTime) {
        self.raft = self.raft.restarted(members, me);
        self.ready = ReadyLoop::default();
        self.read_loop = ReadLoop::after(&self.read_loop);
        self.apply = ApplyLoop::new(self.raft.commit);
        self.backend = Backend::new();
        self.locks = Locks::new(since);
        self.transport = Transport::new(members);
        self.compactor = Default::default();
        self.life = Life(self.life.0 + 1);
        self.dead = false;
        self.listening = true;
        self.serving = false;
        self.publish_after = None;
        self.reset_stats(since);
    }

    /// Whether the member runs in life `life`: what that life scheduled still acts (a killed
    /// process's timers, disk completions and lock wake-ups do nothing, in its next life too).
    pub fn runs(&self, life: Life) -> bool {
        !self.dead && self.life == life
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        self.locks.reset_stats(now);
        self.raft.reset_stats(now);
        self.apply.reset_stats(now);
    }
}
