//! Go's goroutine scheduler, for one process, as Go 1.19's `runtime/proc.go` runs it.
//!
//! etcd and its clients are Go programs, and where their work waits is decided here: which
//! runnable goroutine a processor (P) takes next, and how long a goroutine readied by the
//! network waits before anyone notices it. The rules kept, each from `proc.go`:
//!
//! - **GOMAXPROCS Ps**, each with a local run queue and a `runnext` slot.
//! - **Readied by a running goroutine** (a channel send or receive, an unlock, closing a
//!   channel, a `go` statement: `ready`, `newproc` → `runqput(pp, gp, next=true)`): the
//!   goroutine takes the readier's `runnext`, and the one it displaces goes to the tail of the
//!   readier's local queue. Then `wakep`: if a P is idle and no M is spinning, one thread is
//!   woken, which takes `thread_wake` (a futex wake-up and the thread getting a CPU).
//! - **Readied by the network poller** (a socket it waits on became readable): nobody sees it
//!   until someone polls. A P polls (`netpoll(0)` in `findRunnable`) only when its local and
//!   the global queue are empty; then it takes every ready goroutine, runs the first and hands
//!   the rest to `injectglist`: one per idle P to the global queue (starting a thread for each),
//!   the rest to the tail of its own local queue. When every P is idle, a thread blocked in
//!   `netpoll` wakes instead (after `thread_wake`). When nobody has polled for 10 ms, `sysmon`
//!   polls and puts everything on the global queue. So on a busy process, work that arrives
//!   over the network waits behind the queued work of every P.
//! - **`findRunnable`'s order**: every 61st schedule the global queue first (fairness), then
//!   `runnext`, the local queue, the global queue (a batch of `len/GOMAXPROCS + 1`), the
//!   poller, then stealing half of another P's local queue (or its `runnext`); with nothing
//!   found the P goes idle.
//! - **Preemption**: a goroutine that has run 10 ms goes to the global queue
//!   ([`GoSched::yielded`]); the caller decides when that happens.
//!
//! - **Spinning**: a P that finds nothing does not park at once: its thread spins, looking
//!   again, and parks only then (`findRunnable`'s spinning phase, then `stopm`). While one
//!   spins, `wakep` wakes no other thread and network readiness wakes no parked one: the
//!   spinner will find the work. The caller decides how long a spin lasts (its CPU) and calls
//!   [`GoSched::spun`] at its end.
//!
//! Like the engine's resources, the scheduler holds no events: the caller tells it what
//! happened and schedules the wake-ups it asks for ([`GoSched::take_wakes`],
//! [`GoSched::sysmon_due`]). Simplifications, stated: a spinning thread that finds work wakes
//! another only when work it could take is left (Go's `resetspinning` wakes one regardless,
//! which then finds nothing); `runnext` is stolen without Go's 3 µs grace, since a thief
//! arrives a thread wake-up later anyway; the 256-slot local queues never overflow.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};

/// A processor of one process: its index, below GOMAXPROCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PId(pub u8);

impl PId {
    fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// How a goroutine became runnable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Readied by the goroutine running on this P: it takes the P's `runnext`.
    By(PId),
    /// Readied by the network poller: it waits until someone polls.
    Netpoll,
    /// Readied by a timer. `checkTimers` runs at every schedule of a running P, which readies
    /// it into its own `runnext` (the first running P, here); with every P idle, the thread
    /// blocked in netpoll until the timer wakes and runs it.
    Timer,
}

/// What a P is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No goroutine to run; its thread is parked.
    Idle,
    /// Its thread is being woken.
    Waking,
    /// Running goroutines.
    Running,
    /// Found nothing; its thread spins before parking.
    Spinning,
}

#[derive(Debug, Clone)]
struct Proc<G> {
    state: State,
    runnext: Option<G>,
    local: VecDeque<G>,
    /// Schedules so far (`schedtick`).
    ticks: u32,
    /// Its thread was woken by `wakep`, as a spinning thread (`startm(nil, true)`).
    woken_spinning: bool,
}

/// After this long without a poll, sysmon polls the network (`sysmon`: 10 ms).
pub const SYSMON_POLL: SimDuration = SimDuration(10_000_000);

/// Go's scheduler for one process; `G` names a goroutine.
#[derive(Debug, Clone)]
pub struct GoSched<G> {
    ps: Vec<Proc<G>>,
    global: VecDeque<G>,
    /// Goroutines the network poller has readied, not yet taken.
    polled: VecDeque<G>,
    /// Idle Ps, the most recently idled last (`pidleput`/`pidleget`).
    idle: Vec<PId>,
    /// A woken thread is on its way, or a P spins (`nmspinning > 0`).
    spinning: u32,
    /// The P whose thread, blocked in `netpoll`, readiness has woken (it has not arrived).
    poll_waker: Option<PId>,
    /// The last time anyone polled (`sched.lastpoll`).
    last_poll: SimTime,
    /// When sysmon should look at the poller, if asked and not yet delivered.
    sysmon_at: Option<SimTime>,
    /// Threads to wake, as (P, when), for the caller to schedule.
    wakes: Vec<(PId, SimTime)>,
    thread_wake: SimDuration,
}

impl<G: Copy> GoSched<G> {
    /// A process with `gomaxprocs` idle Ps, whose parked threads take `thread_wake` to wake.
    pub fn new(gomaxprocs: u8, thread_wake: SimDuration) -> GoSched<G> {
        assert!(gomaxprocs >= 1, "GOMAXPROCS is at least 1");
        GoSched {
            ps: (0..gomaxprocs)
                .map(|_| Proc {
                    state: State::Idle,
                    runnext: None,
                    local: VecDeque::new(),
                    ticks: 0,
                    woken_spinning: false,
                })
                .collect(),
            global: VecDeque::new(),
            polled: VecDeque::new(),
            // pidleget takes from the end: P0 first, as a fresh process runs main on P0.
            idle: (0..gomaxprocs).rev().map(PId).collect(),
            spinning: 0,
            poll_waker: None,
            last_poll: SimTime::ZERO,
            sysmon_at: None,
            wakes: Vec::new(),
            thread_wake,
        }
    }

    /// GOMAXPROCS.
    pub fn procs(&self) -> usize {
        self.ps.len()
    }

    /// Runnable goroutines not running: every queue and the poller's ready list.
    pub fn runnable(&self) -> usize {
        self.global.len()
            + self.polled.len()
            + self
                .ps
                .iter()
                .map(|p| p.local.len() + usize::from(p.runnext.is_some()))
                .sum::<usize>()
    }

    /// What `GODEBUG=schedtrace` prints of the queues (`schedtrace` in `proc.go`): the
    /// global queue's length (`runqueue=`) and the local queues' together (the bracketed
    /// list, `runqtail - runqhead` of each P: without `runnext`).
    pub fn schedtrace_lengths(&self) -> (usize, usize) {
        let local = self.ps.iter().map(|p| p.local.len()).sum();
        (self.global.len(), local)
    }

    /// Whether a goroutine readied by the network now would wake a thread: a P is idle (its
    /// thread blocked in `netpoll`), and no thread is already spinning or on its way from the
    /// poller (see [`GoSched::ready`] with [`Wake::Netpoll`]).
    pub fn netpoll_would_wake(&self) -> bool {
        self.poll_waker.is_none() && self.spinning == 0 && !self.idle.is_empty()
    }

    /// Lengths of the global queue and of every local queue together, with `runnext`.
    pub fn queue_lengths(&self) -> (usize, usize) {
        let local = self
            .ps
            .iter()
            .map(|p| p.local.len() + usize::from(p.runnext.is_some()))
            .sum();
        (self.global.len(), local)
    }

    /// Goroutine `g` becomes runnable at `now`.
    pub fn ready(&mut self, now: SimTime, g: G, how: Wake) {
        match how {
            Wake::By(p) => {
                debug_assert!(matches!(
                    self.ps[p.index()].state,
                    State::Running | State::Spinning
                ));
                let pr = &mut self.ps[p.index()];
                if let Some(old) = pr.runnext.replace(g) {
                    pr.local.push_back(old);
                }
                self.wakep(now);
            }
            Wake::Timer => match self.ps.iter().position(|p| p.state == State::Running) {
                Some(p) => self.ready(now, g, Wake::By(PId(p as u8))),
                None => {
                    self.global.push_back(g);
                    if self.poll_waker.is_none() {
                        self.start_idle(now, 1);
                    }
                }
            },
            Wake::Netpoll => {
                self.polled.push_back(g);
                if self.poll_waker.is_some() || self.spinning > 0 {
                    // The woken poller, or a spinning thread, will take this one too.
                } else if let Some(p) = self.idle.pop() {
                    // With a P idle, a thread is blocked in netpoll (`findRunnable` blocks
                    // the first thread to go idle there), and the readiness wakes it.
                    self.poll_waker = Some(p);
                    self.start(now, p);
                } else if self.sysmon_at.is_none() {
                    // Sysmon sleeps up to 10 ms between looks when there is nothing to do.
                    self.sysmon_at = Some((self.last_poll + SYSMON_POLL).max(now));
                }
            }
        }
    }

    /// A goroutine returns from a blocking system call (an fdatasync) at `now`: its thread is
    /// awake and takes an idle P if there is one, to run the goroutine at once
    /// (`exitsyscall`); with none, the caller puts the goroutine on the global queue
    /// ([`GoSched::yielded`]) and the thread parks (`exitsyscall0`).
    pub fn exit_syscall(&mut self) -> Option<PId> {
        let p = self.idle.pop()?;
        if self.poll_waker == Some(p) {
            // That P's thread is on its way from netpoll: leave it that one.
            self.idle.push(p);
            return None;
        }
        self.ps[p.index()].state = State::Running;
        Some(p)
    }

    /// The goroutine running on `p` was preempted (it ran 10 ms): it goes to the global queue
    /// (`goschedImpl`); the P then schedules as after a block ([`GoSched::next`]).
    pub fn yielded(&mut self, g: G) {
        self.global.push_back(g);
    }

    /// The goroutine running on `p` blocked or ended at `now`: the goroutine `p` runs next, or
    /// `None` when it found nothing and spins (`schedule`, `findRunnable`): the caller calls
    /// [`GoSched::spun`] when the spin ends.
    pub fn next(&mut self, now: SimTime, p: PId) -> Option<G> {
        debug_assert_eq!(self.ps[p.index()].state, State::Running);
        let pr = &mut self.ps[p.index()];
        pr.ticks = pr.ticks.wrapping_add(1);
        if pr.ticks % 61 == 0 {
            if let Some(g) = self.global.pop_front() {
                return Some(g);
            }
        }
        if let Some(g) = pr.runnext.take().or_else(|| pr.local.pop_front()) {
            return Some(g);
        }
        self.find_elsewhere(now, p)
    }

    /// The thread of `p`, woken earlier, runs at `now`: the goroutine it found, or `None`
    /// when there was nothing left and it spins (then [`GoSched::spun`]).
    pub fn woken(&mut self, now: SimTime, p: PId) -> Option<G> {
        debug_assert_eq!(self.ps[p.index()].state, State::Waking);
        self.ps[p.index()].state = State::Running;
        let g = if self.poll_waker == Some(p) {
            self.poll_waker = None;
            if self.polled.is_empty() {
                // Sysmon took the list meanwhile, to the global queue.
                self.find_elsewhere(now, p)
            } else {
                // The thread returns from netpoll with the ready list in hand.
                self.poll(now, p)
            }
        } else {
            // A thread wakep started no longer counts as spinning once it has looked (if it
            // found nothing, find_elsewhere counts it again while it spins).
            if std::mem::take(&mut self.ps[p.index()].woken_spinning) {
                self.spinning -= 1;
            }
            self.find_elsewhere(now, p)
        };
        if g.is_some() && self.work_left() {
            self.wakep(now);
        }
        g
    }

    /// The spin of `p` ends at `now`: it looks once more and runs what it finds, or parks
    /// (`stopm`) and returns `None`.
    pub fn spun(&mut self, now: SimTime, p: PId) -> Option<G> {
        debug_assert_eq!(self.ps[p.index()].state, State::Spinning);
        self.spinning -= 1;
        self.ps[p.index()].state = State::Running;
        let g = self.look(now, p);
        if g.is_none() {
            self.park(p);
        }
        g
    }

    /// The sysmon check asked for is due at `now`: if nobody has polled for 10 ms, sysmon
    /// polls, puts everything on the global queue and starts a thread per idle P.
    pub fn sysmon(&mut self, now: SimTime) {
        self.sysmon_at = None;
        if self.polled.is_empty() {
            return;
        }
        if now < self.last_poll + SYSMON_POLL {
            self.sysmon_at = Some(self.last_poll + SYSMON_POLL);
            return;
        }
        self.last_poll = now;
        let n = self.polled.len();
        self.global.extend(self.polled.drain(..));
        self.start_idle(now, n);
    }

    /// When the caller should call [`GoSched::sysmon`], if it should; asked once.
    pub fn sysmon_due(&mut self) -> Option<SimTime> {
        self.sysmon_at.filter(|_| !self.polled.is_empty())
    }

    /// The threads to wake, as (P, when): the caller calls [`GoSched::woken`] for each then.
    pub fn take_wakes(&mut self) -> impl Iterator<Item = (PId, SimTime)> + '_ {
        self.wakes.drain(..)
    }

    /// Past the local queue: the global queue, the poller, then stealing; with nothing found
    /// the P spins.
    fn find_elsewhere(&mut self, now: SimTime, p: PId) -> Option<G> {
        let g = self.look(now, p);
        if g.is_none() {
            self.spin(p);
        }
        g
    }

    /// The global queue, the poller, then stealing.
    fn look(&mut self, now: SimTime, p: PId) -> Option<G> {
        if let Some(g) = self.global_batch(p) {
            return Some(g);
        }
        // While a thread blocked in netpoll is being woken (`sched.lastpoll == 0`), nobody
        // else polls.
        if !self.polled.is_empty() && self.poll_waker.is_none() {
            return self.poll(now, p);
        }
        self.steal(p)
    }

    /// `p` found nothing: its thread spins.
    fn spin(&mut self, p: PId) {
        self.ps[p.index()].state = State::Spinning;
        self.spinning += 1;
    }

    /// Whether `p`'s thread spins (the caller owes it a [`GoSched::spun`]).
    pub fn is_spinning(&self, p: PId) -> bool {
        self.ps[p.index()].state == State::Spinning
    }

    /// `p`'s thread parks; the P is idle.
    fn park(&mut self, p: PId) {
        self.ps[p.index()].state = State::Idle;
        self.idle.push(p);
    }

    /// `netpoll` from `p`: it takes every ready goroutine, runs the first, and injects the
    /// rest.
    fn poll(&mut self, now: SimTime, p: PId) -> Option<G> {
        self.last_poll = now;
        let g = self.polled.pop_front();
        self.inject(now, p);
        g
    }

    /// `globrunqget(pp, 0)`: a batch of `len/GOMAXPROCS + 1` moves to `p`'s local queue and
    /// its first runs.
    fn global_batch(&mut self, p: PId) -> Option<G> {
        let g = self.global.pop_front()?;
        let n = (self.global.len() + 1) / self.ps.len() + 1;
        let more = (n - 1).min(self.global.len()).min(128);
        let pr = &mut self.ps[p.index()];
        pr.local.extend(self.global.drain(..more));
        Some(g)
    }

    /// `injectglist` with a current P: one goroutine per idle P to the global queue (and a
    /// thread started for each), the rest to `p`'s local queue.
    fn inject(&mut self, now: SimTime, p: PId) {
        let n = self.idle.len().min(self.polled.len());
        self.global.extend(self.polled.drain(..n));
        self.start_idle(now, n);
        let pr = &mut self.ps[p.index()];
        pr.local.extend(self.polled.drain(..));
    }

    /// `runqsteal`: half of another P's local queue (the last of it runs), or its `runnext`.
    fn steal(&mut self, p: PId) -> Option<G> {
        let n = self.ps.len();
        for k in 1..n {
            let v = (p.index() + k) % n;
            let len = self.ps[v].local.len();
            if len > 0 {
                let take = len - len / 2;
                let mut grabbed: VecDeque<G> = self.ps[v].local.drain(..take).collect();
                let g = grabbed.pop_back();
                self.ps[p.index()].local.extend(grabbed);
                return g;
            }
            if let Some(g) = self.ps[v].runnext.take() {
                return Some(g);
            }
        }
        None
    }

    /// `wakep`: wake one idle P's thread unless one is already spinning.
    fn wakep(&mut self, now: SimTime) {
        if self.spinning > 0 || self.idle.is_empty() {
            return;
        }
        self.spinning += 1;
        let p = self.idle.pop().expect("an idle P");
        self.ps[p.index()].woken_spinning = true;
        self.start(now, p);
    }

    /// `startm` for up to `n` idle Ps.
    fn start_idle(&mut self, now: SimTime, n: usize) {
        for _ in 0..n {
            let Some(p) = self.idle.pop() else {
                return;
            };
            self.start(now, p);
        }
    }

    fn start(&mut self, now: SimTime, p: PId) {
        self.ps[p.index()].state = State::Waking;
        self.wakes.push((p, now + self.thread_wake));
    }

    /// Whether a woken thread could find work it does not already have.
    fn work_left(&self) -> bool {
        !self.global.is_empty()
            || !self.polled.is_empty()
            || self.ps.iter().any(|p| !p.local.is_empty())
    }
}

#[cfg(test)]
mod tests;
