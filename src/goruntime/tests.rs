//! The scheduler against the behaviour of `runtime/proc.go`, case by case.

use super::*;

const WAKE: SimDuration = SimDuration(20_000);

fn t(us: u64) -> SimTime {
    SimTime(us * 1000)
}

/// A process whose every P runs something: each idle P is woken and handed a goroutine.
fn saturated(procs: u8) -> GoSched<u32> {
    let mut s = GoSched::new(procs, WAKE);
    for g in 0..u32::from(procs) {
        s.ready(t(0), 1000 + g, Wake::Netpoll);
        let wakes: Vec<_> = s.take_wakes().collect();
        for (p, at) in wakes {
            assert_eq!(at, t(0) + WAKE);
            s.woken(at, p).expect("the poller hands it a goroutine");
        }
    }
    assert!(s.idle.is_empty(), "every P is running");
    s
}

#[test]
fn a_readied_goroutine_takes_runnext_and_displaces_the_previous_to_the_tail() {
    let mut s = saturated(1);
    let p = PId(0);
    s.ready(t(1), 1, Wake::By(p));
    s.ready(t(1), 2, Wake::By(p));
    s.ready(t(1), 3, Wake::By(p));
    // runnext is 3; 1 and 2 went to the local queue in order.
    assert_eq!(s.next(t(2), p), Some(3));
    assert_eq!(s.next(t(2), p), Some(1));
    assert_eq!(s.next(t(2), p), Some(2));
    assert_eq!(s.next(t(2), p), None, "nothing left: the P spins");
    assert!(s.is_spinning(p));
    assert_eq!(s.spun(t(3), p), None, "still nothing: it parks");
    assert_eq!(s.idle, vec![p]);
}

#[test]
fn readying_with_an_idle_p_wakes_one_thread_which_steals() {
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    // P0 runs something (woken by the network), P1 is idle.
    s.ready(t(0), 100, Wake::Netpoll);
    let (p0, at) = s.take_wakes().next().unwrap();
    assert_eq!(s.woken(at, p0), Some(100));
    // P0 readies three goroutines: one thread is woken (wakep), not three.
    for g in 1..=3 {
        s.ready(t(30), g, Wake::By(p0));
    }
    let wakes: Vec<_> = s.take_wakes().collect();
    assert_eq!(wakes, vec![(PId(1), t(30) + WAKE)]);
    // It arrives a thread wake-up later and steals half of P0's local queue [1, 2]: one
    // goroutine, which it runs.
    assert_eq!(s.woken(t(50), PId(1)), Some(1));
    // P0 keeps runnext (3) and the rest of its queue (2).
    assert_eq!(s.next(t(60), p0), Some(3));
    assert_eq!(s.next(t(60), p0), Some(2));
}

#[test]
fn a_woken_thread_that_finds_nothing_parks_again() {
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    s.ready(t(0), 100, Wake::Netpoll);
    let (p0, at) = s.take_wakes().next().unwrap();
    s.woken(at, p0);
    s.ready(t(30), 1, Wake::By(p0));
    let (p1, at1) = s.take_wakes().next().unwrap();
    // P0 blocks before the thief arrives and runs its runnext itself.
    assert_eq!(s.next(t(31), p0), Some(1));
    assert_eq!(s.woken(at1, p1), None);
    assert_eq!(s.spun(at1, p1), None);
    assert!(s.idle.contains(&p1));
}

#[test]
fn network_work_on_an_idle_process_waits_one_thread_wake_and_spreads_over_idle_ps() {
    let mut s: GoSched<u32> = GoSched::new(4, WAKE);
    for g in 1..=5 {
        s.ready(t(0), g, Wake::Netpoll);
    }
    // One thread was blocked in netpoll: one wake-up.
    let wakes: Vec<_> = s.take_wakes().collect();
    assert_eq!(wakes.len(), 1);
    let (p, at) = wakes[0];
    assert_eq!(at, t(0) + WAKE);
    // It runs the first and injects the rest: one per idle P (three) to the global queue,
    // with a thread started for each, and the last to its own local queue.
    assert_eq!(s.woken(at, p), Some(1));
    let more: Vec<_> = s.take_wakes().collect();
    assert_eq!(more.len(), 3);
    assert_eq!(s.queue_lengths(), (3, 1));
    let mut got: Vec<u32> = more
        .into_iter()
        .map(|(q, at)| s.woken(at, q).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, vec![2, 3, 4]);
    assert_eq!(s.next(t(30), p), Some(5));
}

/// The case the issue names: on a saturated process, a goroutine the network poller readies
/// waits until a P runs out of work, however long the queues.
#[test]
fn a_netpoll_goroutine_on_a_busy_process_waits_until_a_p_runs_dry() {
    let mut s = saturated(2);
    // Both Ps have long local queues.
    for g in 1..=10 {
        s.ready(t(100), g, Wake::By(PId(g as u8 % 2)));
    }
    s.ready(t(100), 99, Wake::Netpoll);
    assert_eq!(s.take_wakes().count(), 0, "no idle P, no wake-up");
    let mut order = Vec::new();
    while let Some(g) = s.next(t(200), PId(0)) {
        order.push(g);
    }
    // P0 ran its own five, then (its queues empty) polled and ran 99; then it stole from P1.
    assert_eq!(&order[..5], &[10, 2, 4, 6, 8]);
    assert_eq!(order[5], 99);
}

#[test]
fn sysmon_polls_after_10_ms_without_a_poll() {
    let mut s = saturated(1);
    s.ready(t(5_000), 1, Wake::By(PId(0)));
    s.ready(t(5_000), 99, Wake::Netpoll);
    // The last poll was at t = 20 µs (the saturating wake-up), so sysmon looks at 10.02 ms.
    let due = s.sysmon_due().expect("sysmon is due");
    assert_eq!(due, t(20) + SYSMON_POLL);
    s.sysmon(due);
    // 99 went to the global queue; P0 takes its runnext first, then the global queue.
    assert_eq!(s.queue_lengths(), (1, 1));
    assert_eq!(s.next(due, PId(0)), Some(1));
    assert_eq!(s.next(due, PId(0)), Some(99));
}

#[test]
fn a_poll_by_a_p_that_ran_dry_resets_sysmons_clock() {
    let mut s = saturated(1);
    s.ready(t(1_000), 99, Wake::Netpoll);
    let due = s.sysmon_due().unwrap();
    // P0 runs out of work at 2 ms and polls: it takes 99 itself.
    assert_eq!(s.next(t(2_000), PId(0)), Some(99));
    s.sysmon(due);
    assert_eq!(s.queue_lengths(), (0, 0));
    assert_eq!(s.last_poll, t(2_000));
}

#[test]
fn every_61st_schedule_takes_the_global_queue_first() {
    let mut s = saturated(1);
    let p = PId(0);
    s.yielded(500);
    // Keep the local queue non-empty and count schedules until the global one is served.
    let mut n = 0;
    loop {
        s.ready(t(1), n, Wake::By(p));
        s.ready(t(1), n + 10_000, Wake::By(p));
        let g = s.next(t(1), p).unwrap();
        if g == 500 {
            break;
        }
        n += 1;
    }
    // The saturating wake-up took no tick; schedule 61 is the 61st call of next.
    assert_eq!(n, 60);
}

#[test]
fn the_global_queue_is_taken_in_batches_of_len_over_gomaxprocs_plus_one() {
    let mut s = saturated(2);
    for g in 1..=9 {
        s.yielded(g);
    }
    // P0's queues are empty: globrunqget takes 9/2 + 1 = 5, runs the first.
    assert_eq!(s.next(t(1), PId(0)), Some(1));
    assert_eq!(s.queue_lengths(), (4, 4));
}

#[test]
fn a_timer_readies_into_a_running_ps_runnext_or_wakes_an_idle_one() {
    let mut s = saturated(1);
    s.ready(t(1), 7, Wake::Timer);
    assert_eq!(s.take_wakes().count(), 0);
    assert_eq!(s.next(t(2), PId(0)), Some(7));
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    s.ready(t(1), 7, Wake::Timer);
    let (p, at) = s.take_wakes().next().expect("a thread wakes");
    assert_eq!(s.woken(at, p), Some(7));
}

#[test]
fn a_syscall_returns_onto_an_idle_p_or_to_the_global_queue() {
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    let p = s.exit_syscall().expect("an idle P");
    assert_eq!(s.idle.len(), 1);
    assert_eq!(s.next(t(1), p), None, "nothing else to run: it spins");
    assert_eq!(s.spun(t(1), p), None);
    assert_eq!(s.idle.len(), 2);
    let mut s = saturated(1);
    assert_eq!(s.exit_syscall(), None);
    s.yielded(5);
    assert_eq!(s.next(t(1), PId(0)), Some(5));
}

#[test]
fn a_spinning_thread_keeps_others_parked_and_takes_what_arrives() {
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    s.ready(t(0), 100, Wake::Netpoll);
    let (p0, at) = s.take_wakes().next().unwrap();
    assert_eq!(s.woken(at, p0), Some(100));
    // P0 runs dry and spins; work arriving over the network wakes no parked thread.
    assert_eq!(s.next(t(30), p0), None);
    s.ready(t(31), 7, Wake::Netpoll);
    assert_eq!(s.take_wakes().count(), 0, "the spinner will find it");
    assert_eq!(s.spun(t(35), p0), Some(7));
}

/// Schedtrace prints each P's local queue without its `runnext` (`runqtail - runqhead`), and
/// the global queue's length.
#[test]
fn schedtrace_counts_the_local_queues_without_runnext() {
    let mut s = saturated(1);
    let p = PId(0);
    for g in 1..=3 {
        s.ready(t(1), g, Wake::By(p));
    }
    s.yielded(9);
    assert_eq!(s.queue_lengths(), (1, 3));
    assert_eq!(s.schedtrace_lengths(), (1, 2));
}

#[test]
fn network_readiness_wakes_a_thread_only_when_one_sleeps_in_the_poller() {
    // Idle process: its first idle P's thread blocks in netpoll, and readiness wakes it.
    let mut s: GoSched<u32> = GoSched::new(2, WAKE);
    assert!(s.netpoll_would_wake());
    s.ready(t(0), 1, Wake::Netpoll);
    assert_eq!(s.take_wakes().count(), 1);
    // That thread is on its way: the next readiness wakes nobody.
    assert!(!s.netpoll_would_wake());
    // Every P running: nobody sleeps in the poller.
    let s = saturated(2);
    assert!(!s.netpoll_would_wake());
}
