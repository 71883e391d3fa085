//! A killed member started again (a timeline's `kill` with `restart_after_s`), as etcd 3.4
//! restarts on its data directory (the harness starts the same command line again).
//!
//! - **Start.** At the step's time the process is started: it listens at once, so clients'
//!   tries to connect reach it and wait (`request/subconn.rs`). After the cluster's start-up
//!   time (`cluster.start_ms`: the process, the backend opened, the WAL replayed; etcd logs
//!   "restarting local member", then "became follower"), its raft
//!   node runs as a follower of its persisted term that knows no leader, with the log it had
//!   persisted and every committed entry applied (etcd applies at start the committed entries
//!   its backend lacks). What the killed process held in memory is gone: the calls it served
//!   (they failed at their clients at the kill), its read loop's round, its run queues. It runs
//!   as a new Go process; its timers, disk completions and lock wake-ups carry its life
//!   (`event::Life`), so the killed process's do nothing in the new one.
//! - **Catching up** (`replication.rs`). The leader's next heartbeat reaches it, and its answer
//!   shows it lacks entries, so the leader sends an append from its `Next`; that append does not
//!   follow on (what was sent while the member was down was lost), it is rejected, and the
//!   leader probes the member: it sends everything from its `Match + 1`, and nothing new until
//!   that is acknowledged.
//! - **Serving.** etcd serves its gRPC API only once the member has published itself through
//!   raft and applied that entry (`EtcdServer.publish`, then `ReadyNotify`, then
//!   `serveClients`). Its proposal goes to the leader it learns of, after the leader's last
//!   entry; entries apply in order, so the member serves once it has applied every entry the
//!   leader held when it learnt of it. The publish entry itself (one more proposal round, a
//!   millisecond or two on loopback) is not simulated: the model takes the proposal to reach
//!   the leader at once.
//!
//! Not simulated: etcd's election tick advance at start (`InitialElectionTickAdvance`, which
//! fast-forwards the election clock once a peer is connected and matters only when there is
//! no leader to hear), snapshots (the log keeps every entry a member has not applied, so the
//! leader always has what a restarted member lacks), and a raft message in flight to the
//! member across its whole time down (possible only over a link slowed past that time): it
//! reaches the new process.

use super::EtcdModel;
use super::event::{Ev, PackedEv};
use super::ids::{Id, MemberId, ProcId};
use crate::engine::Scheduler;

impl EtcdModel {
    /// Timeline step `step` starts killed member `m` again: it listens now, and its raft node
    /// runs after the start-up time.
    pub(super) fn restart_begin(&mut self, step: u32, m: MemberId, s: &mut Scheduler<PackedEv>) {
        debug_assert!(
            self.members[m].dead,
            "only a killed member is started again"
        );
        self.members[m].listening = true;
        s.schedule_in(
            self.p.raft_timing.start_up,
            Ev::Timeline(step | super::timeline::STEP_END),
        );
    }

    /// Member `m`'s new process has started: its parts start over from what it persisted.
    pub(super) fn restart_run(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let since = self.m.measure_start.unwrap_or(now).min(now);
        let n = usize::from(self.p.members());
        self.members[m].restart(m, n, since);
        let timeout = self.draw_election_timeout();
        self.members[m].raft.randomized_timeout = timeout;
        let spec = super::process_specs(&self.p).swap_remove(m.index());
        self.member_procs[m] = self.cpu.spawn(spec, ProcId(m.0), self.p.go.thread_wake);
        self.grpc.reset_member(m);
        let life = self.members[m].life;
        if self.elections {
            s.schedule_in(self.p.raft_timing.tick, Ev::RaftTick(m, life));
        }
        s.schedule_in(self.p.write.batch_interval, Ev::BackendTick(m, life));
        self.check_serving(m, s);
    }

    /// Whether restarted member `m` now serves clients: it has applied every entry before
    /// its publish entry (see the module doc).
    pub(super) fn check_serving(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let mem = &self.members[m];
        if mem.serving || mem.dead {
            return;
        }
        let publish = match (mem.publish_after, mem.raft.lead) {
            (Some(i), _) => i,
            (None, Some(l)) => {
                // Its proposal reaches the leader now: it goes after the leader's last entry.
                let i = self.members[l].raft.last_index;
                self.members[m].publish_after = Some(i);
                i
            }
            (None, None) => return,
        };
        if self.members[m].apply.applied < publish {
            return;
        }
        self.members[m].serving = true;
        self.subconns_served(m, s);
    }
}
