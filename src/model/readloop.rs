//! `linearizableReadLoop` (`etcdserver/v3_server.go`), a goroutine of its own.
//!
//! A linearizable read takes the current notifier and signals `readwaitc` (buffered, one
//! token), which readies the loop if it waits there (`linearizableReadNotify`). The loop swaps
//! in a new notifier when it runs, so every read that took the old one before then is served
//! by this round, and later ones by the next; it asks raft for a read index
//! (`requestCurrentIndex` → `ReadIndex`) and waits on `readStateC`. The Ready loop hands it the
//! ReadState; if the applied index is behind the read index it waits on `applyWait`, which
//! the apply goroutine triggers; then it closes the notifier (`notify`), readying every read of
//! the round. If a read signalled meanwhile, the token is there and the next round starts at
//! once. So at most one round is in flight per member, and each hop between these goroutines
//! is a channel hand-off.

use super::EtcdModel;
use super::event::Ev;
use super::event::{CpuJob, PackedEv, RaftInput};
use super::ids::{MemberId, ReqId};
use super::raft::ReadState;
use super::result::{RoundHop, RoundSpan};
use super::stage::Stage;
use crate::engine::{Scheduler, SimDuration, SimTime};

/// What the loop goroutine does in its next burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Step {
    /// Blocked on `readwaitc`.
    #[default]
    Waiting,
    /// Woken by `readwaitc`: swap the notifier, send the ReadIndex.
    Signalled,
    /// Blocked on `readStateC`.
    AwaitState,
    /// Woken with a ReadState for its round.
    GotState(u64),
    /// Blocked on `applyWait` for this index.
    AwaitApply(u64),
    /// Woken by `applyWait`: notify the round.
    Applied,
}

/// One member's read loop.
#[derive(Default)]
pub struct ReadLoop {
    step: Step,
    /// Reads holding the current notifier (the next round's).
    waiting: Vec<ReqId>,
    /// Reads of the round in flight.
    round: Vec<ReqId>,
    /// A read signalled `readwaitc` since the loop last took the token.
    token: bool,
    /// The round's request id: a ReadState for another one is out of date.
    ctx: u32,
    /// When a read signalled the round (`readwaitc`), and when each of its hops ended (the
    /// milestones of [`RoundHop`]), as the round reaches them.
    marks: [Option<SimTime>; RoundHop::COUNT + 1],
    /// When a read left the `readwaitc` token for the next round.
    token_at: SimTime,
    /// When the round's ReadIndex is sent again if no ReadState has come (`readIndexRetryTime`).
    retry_at: Option<SimTime>,
    /// When the round fails with `ErrTimeout` if no ReadState has come (`ReqTimeout`).
    error_at: Option<SimTime>,
    /// A timer came due while the member's process was stopped: it acts on resume.
    timer_due: bool,
}

/// `readIndexRetryTime` (`etcdserver/v3_server.go`): a round that has no answer this long
/// after its ReadIndex sends it again.
const READ_INDEX_RETRY: SimDuration = SimDuration(500_000_000);

impl ReadLoop {
    /// The loop of a member's next process: idle, its rounds numbered on from `old`'s so that
    /// a timer of `old`'s round is out of date.
    pub fn after(old: &ReadLoop) -> ReadLoop {
        ReadLoop {
            ctx: old.ctx.wrapping_add(1),
            ..ReadLoop::default()
        }
    }

    /// The round `ctx` reached milestone `at` (a [`RoundHop::end`]) at `now`, if it is the round in
    /// flight and the milestone is not reached yet.
    pub fn mark(&mut self, ctx: u32, at: usize, now: SimTime) {
        if self.ctx == ctx && self.marks[0].is_some() && self.marks[at].is_none() {
            self.marks[at] = Some(now);
        }
    }

    /// Whether the loop waits on `applyWait` for an index at or below `applied`.
    pub fn released_by(&self, applied: u64) -> bool {
        matches!(self.step, Step::AwaitApply(ix) if ix <= applied)
    }
}

impl EtcdModel {
    /// A linearizable read takes member `m`'s current notifier and signals `readwaitc`.
    pub(super) fn read_loop_join(&mut self, m: MemberId, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::ReadIndexBatch, s.now());
        let rl = &mut self.members[m].read_loop;
        rl.waiting.push(id);
        if rl.step == Step::Waiting {
            rl.step = Step::Signalled;
            rl.marks = [None; RoundHop::COUNT + 1];
            rl.marks[0] = Some(s.now());
            self.go(self.member_proc(m), CpuJob::ReadLoop(m), s);
        } else if !rl.token {
            rl.token = true;
            rl.token_at = s.now();
        }
    }

    /// The loop goroutine of `m` starts a burst: woken by `readwaitc`, it swaps the notifier.
    pub(super) fn read_loop_on_core(&mut self, m: MemberId, now: SimTime) {
        let rl = &mut self.members[m].read_loop;
        if let Step::GotState(_) = rl.step {
            let ctx = rl.ctx;
            rl.mark(ctx, RoundHop::LoopState.end(), now);
            return;
        }
        if rl.step != Step::Signalled {
            return;
        }
        debug_assert!(rl.round.is_empty());
        std::mem::swap(&mut rl.waiting, &mut rl.round);
        rl.ctx = rl.ctx.wrapping_add(1);
        rl.marks[RoundHop::LoopWake.end()] = Some(now);
        let round = std::mem::take(&mut rl.round);
        for &id in &round {
            self.enter(id, Stage::ReadIndexRound, now);
        }
        self.members[m].read_loop.round = round;
    }

    /// The loop goroutine of `m` ends a burst.
    pub(super) fn read_loop_done(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let applied = self.members[m].apply.applied;
        let rl = &mut self.members[m].read_loop;
        match rl.step {
            Step::Signalled => {
                rl.step = Step::AwaitState;
                let ctx = rl.ctx;
                self.send_read_index(m, ctx, s);
            }
            Step::GotState(index) if applied < index => {
                // applyWait.Wait(index): the apply loop triggers it at a batch boundary.
                rl.step = Step::AwaitApply(index);
                let round = std::mem::take(&mut rl.round);
                for &id in &round {
                    self.enter(id, Stage::ApplyWait, s.now());
                }
                self.members[m].read_loop.round = round;
            }
            Step::GotState(_) | Step::Applied => self.finish_round(m, s),
            Step::Waiting | Step::AwaitState | Step::AwaitApply(_) => {
                unreachable!("the read loop ran while blocked")
            }
        }
    }

    /// `sendReadIndex`: the loop asks raft for round `ctx`'s read index, and (when the
    /// timeline can lose a leader: without one no round waits that long) arms the retry timer,
    /// and on the round's first send its error timer (`ReqTimeout`: 5 s and two election
    /// timeouts).
    fn send_read_index(&mut self, m: MemberId, ctx: u32, s: &mut Scheduler<PackedEv>) {
        self.raft_submit(m, RaftInput::ReadIndexLocal { ctx }, s);
        if self.elections {
            let at = s.now() + READ_INDEX_RETRY;
            let rt = self.p.raft_timing;
            let req_timeout =
                SimDuration(5_000_000_000 + 2 * rt.tick.0 * u64::from(rt.election_ticks));
            let rl = &mut self.members[m].read_loop;
            rl.retry_at = Some(at);
            s.schedule_at(at, Ev::ReadIndexRetry(m, ctx));
            if rl.error_at.is_none() {
                let err = s.now() + req_timeout;
                rl.error_at = Some(err);
                s.schedule_at(err, Ev::ReadIndexRetry(m, ctx));
            }
        }
    }

    /// One of member `m`'s read loop timers for round `ctx` fired. If the round still waits
    /// for it: the error timer fails the round with `ErrTimeout` ("timed out waiting for read
    /// index response", gRPC Unavailable: clientv3 retries); the retry timer sends the
    /// ReadIndex again ("waiting for ReadIndex response took too long, retrying"). The loop
    /// goroutine runs its timers, so a stopped process acts on a due one when it resumes.
    pub(super) fn read_index_retry(&mut self, m: MemberId, ctx: u32, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let paused = self.process_paused(self.member_proc(m));
        let rl = &mut self.members[m].read_loop;
        if rl.step != Step::AwaitState || rl.ctx != ctx {
            return;
        }
        let due_now = rl.error_at == Some(now) || rl.retry_at == Some(now);
        if !due_now && !rl.timer_due {
            return; // A timer of an earlier arming.
        }
        if paused {
            rl.timer_due = true;
            return;
        }
        rl.timer_due = false;
        let error = rl.error_at.is_some_and(|t| t <= now);
        if !error && rl.retry_at.is_none_or(|t| t > now) {
            return;
        }
        if error {
            self.fail_round(m, s);
        } else {
            self.send_read_index(m, ctx, s);
        }
    }

    /// Member `m`'s process goes on: a read loop timer that came due meanwhile acts now.
    pub(super) fn read_loop_resumed(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let rl = &self.members[m].read_loop;
        if rl.timer_due {
            let ctx = rl.ctx;
            self.read_index_retry(m, ctx, s);
        }
    }

    /// etcd's first commit in the term was applied on `m` (`FirstCommitInTermNotify`): a round
    /// waiting for its read index sends it again, since a new leader drops ReadIndex requests
    /// until then.
    pub(super) fn first_commit_in_term(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let rl = &self.members[m].read_loop;
        if rl.step == Step::AwaitState {
            let ctx = rl.ctx;
            self.send_read_index(m, ctx, s);
        }
    }

    /// Member `m` learnt of a new leader (`leaderChangedNotify`): a round waiting for its read
    /// index fails with `ErrLeaderChanged` ("etcdserver: leader changed", gRPC Unavailable,
    /// which clientv3 retries), and the loop goes on to the next round.
    pub(super) fn leader_changed(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        if self.members[m].read_loop.step == Step::AwaitState {
            self.fail_round(m, s);
        }
    }

    /// The round waiting for its read index fails (`nr.notify(err)`): every read of it answers
    /// with the error, and the loop goes on to the next round.
    fn fail_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let rl = &mut self.members[m].read_loop;
        debug_assert_eq!(rl.step, Step::AwaitState);
        rl.retry_at = None;
        rl.error_at = None;
        rl.timer_due = false;
        let mut round = std::mem::take(&mut rl.round);
        for id in round.drain(..) {
            self.read_failed_unavailable(id, s);
        }
        self.members[m].read_loop.round = round;
        self.next_round(m, s);
    }

    /// The Ready loop hands member `m`'s read loop a ReadState on `readStateC`.
    pub(super) fn read_state_delivered(
        &mut self,
        m: MemberId,
        rs: ReadState,
        s: &mut Scheduler<PackedEv>,
    ) {
        let rl = &mut self.members[m].read_loop;
        if rl.step != Step::AwaitState || rs.ctx != rl.ctx {
            return; // "ignored out-of-date read index response"
        }
        rl.step = Step::GotState(rs.index);
        rl.retry_at = None;
        rl.error_at = None;
        rl.mark(rs.ctx, RoundHop::ReadState.end(), s.now());
        self.go(self.member_proc(m), CpuJob::ReadLoop(m), s);
    }

    /// The apply goroutine triggered `applyWait` for the index the loop of `m` waits for.
    pub(super) fn read_index_applied(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        self.members[m].read_loop.step = Step::Applied;
        self.go(self.member_proc(m), CpuJob::ReadLoop(m), s);
    }

    /// `nr.notify`: every read of the round is readied; then the loop takes the next token,
    /// if a read left one, or blocks on `readwaitc`.
    fn finish_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let now = s.now();
        let mut round = std::mem::take(&mut self.members[m].read_loop.round);
        // A milestone the round did not reach (no heartbeats on one member; a read index
        // applied already) ends where the one before it did.
        let marks = &mut self.members[m].read_loop.marks;
        marks[RoundHop::COUNT] = Some(now);
        let start = marks[0].unwrap_or(now);
        let mut ends = [0u64; RoundHop::COUNT];
        let mut prev = start;
        for (i, end) in ends.iter_mut().enumerate() {
            let t = marks[i + 1].unwrap_or(prev).max(prev);
            *end = t.0;
            prev = t;
        }
        let span = RoundSpan {
            member: m,
            start_ns: start.0,
            end_ns: now.0,
            reads: round.len() as u32,
            hop_ends_ns: ends,
        };
        if self.m.measure_start.is_some() {
            let mut hops = [0u64; RoundHop::COUNT];
            let mut from = start.0;
            for (h, &e) in hops.iter_mut().zip(&ends) {
                *h = e - from;
                from = e;
            }
            self.m.round_hops(&hops);
        }
        self.trace.round(self.m.rounds, span);
        self.m.round_finished(round.len());
        for id in round.drain(..) {
            self.after_read_index(id, s);
        }
        self.members[m].read_loop.round = round;
        self.next_round(m, s);
    }

    /// The loop takes the next token, if a read left one, or blocks on `readwaitc`.
    fn next_round(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        let rl = &mut self.members[m].read_loop;
        if std::mem::take(&mut rl.token) {
            rl.step = Step::Signalled;
            rl.marks = [None; RoundHop::COUNT + 1];
            rl.marks[0] = Some(rl.token_at);
            self.go(self.member_proc(m), CpuJob::ReadLoop(m), s);
        } else {
            rl.step = Step::Waiting;
        }
    }
}
