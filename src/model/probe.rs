//! The real-etcd harness's probe (`harness/go/src/etcdload`, `--probe-rate`), so that the
//! model can be read the way the harness reads a cluster.
//!
//! One goroutine of the client process, on a `clientv3.Client` of its own (its own gRPC
//! connection, to one member), loops on a `time.Ticker`: at each tick it reads one key, a
//! linearizable and a serializable `Get` in turn, and waits for the answer. A Go ticker's
//! channel holds one tick and drops the ones that find it full, so a read that outlasts the
//! period is followed at once by the next, and the period's other ticks are lost. The probe's
//! reads are timed apart from the workload's (`Metrics::probe`) and count in none of its
//! totals: at a low rate they barely load the members, and the difference between the two
//! kinds' latencies is what a lone ReadIndex round costs beyond a serializable read while the
//! workload keeps the members busy. Its rounds count among the run's ReadIndex rounds and their
//! hops (with a serializable workload, they are the probe's alone).

use super::EtcdModel;
use super::event::{CpuJob, Ev, PackedEv};
use super::ids::{ConnId, MemberId};
use super::request::Req;
use super::result::OpKind;
use crate::engine::{Scheduler, SimDuration, SimTime, Simulation};

/// Sequence numbers of the probe's reads start here, apart from the workload's and the
/// background streams'.
pub const PROBE_SEQ: u64 = 3 << 62;

/// The probe goroutine's state.
#[derive(Debug, Default)]
pub struct ProbeLoop {
    /// A read is in flight: the goroutine waits for its answer, not on the ticker.
    busy: bool,
    /// The ticker's channel holds a tick.
    tick_held: bool,
    /// The next read is serializable (the first is linearizable).
    serializable: bool,
    /// Reads issued.
    issued: u64,
}

/// Schedules the ticker's first tick, one period after the start (`time.NewTicker`).
pub fn start(sim: &mut Simulation<EtcdModel>) {
    if let Some(rate) = sim.model.w.probe.as_ref().map(|p| p.rate) {
        sim.schedule_at(SimTime::ZERO + period(rate), Ev::ProbeTick);
    }
}

fn period(rate: f64) -> SimDuration {
    SimDuration::from_secs_f64(1.0 / rate)
}

impl ProbeLoop {
    /// The probe's reads in flight: 0 or 1.
    pub fn in_flight(&self) -> u64 {
        u64::from(self.busy)
    }
}

impl EtcdModel {
    /// The probe's connection: the one after the workload's.
    pub(super) fn probe_conn(&self) -> Option<ConnId> {
        self.w.probe.as_ref().map(|_| ConnId(self.w.conns))
    }

    /// The member `conn` dials if it is the probe's connection.
    pub(super) fn probe_member(&self, conn: ConnId) -> Option<MemberId> {
        let probe = self.w.probe.as_ref()?;
        (self.probe_conn() == Some(conn)).then_some(probe.member)
    }

    /// The ticker ticks: the goroutine reads now if it waits on the ticker, or the tick waits
    /// in the channel (dropped if one already does).
    pub(super) fn probe_tick(&mut self, s: &mut Scheduler<PackedEv>) {
        let rate = self
            .w
            .probe
            .as_ref()
            .expect("a tick comes from a probe")
            .rate;
        s.schedule_in(period(rate), Ev::ProbeTick);
        if self.probe.busy {
            self.probe.tick_held = true;
        } else {
            self.probe_read(s);
        }
    }

    /// The probe's read finished: a held tick starts the next one at once.
    pub(super) fn probe_finished(&mut self, s: &mut Scheduler<PackedEv>) {
        debug_assert!(self.probe.busy, "the probe has one read in flight");
        self.probe.busy = false;
        if std::mem::take(&mut self.probe.tick_held) {
            self.probe_read(s);
        }
    }

    /// The goroutine, readied by the ticker (or going on after its last read), issues its next
    /// read. Like a benchmark client's op, the read begins as a loop burst on a core
    /// (`Phase::ClientLoop`): the goroutine's wait for a P and its loop (the select, the
    /// options, the context) come before its clock starts (`st := time.Now()`), as in
    /// etcdload.
    fn probe_read(&mut self, s: &mut Scheduler<PackedEv>) {
        let member = self.w.probe.as_ref().expect("a probe").member;
        let conn = self.probe_conn().expect("a probe's connection");
        let measured = self.m.measure_start.is_some();
        let mut r = Req::new(
            PROBE_SEQ + self.probe.issued,
            OpKind::Read,
            None,
            conn,
            member,
            measured,
        );
        r.background = true;
        r.probe = true;
        r.serializable = self.probe.serializable;
        self.probe.serializable = !self.probe.serializable;
        self.probe.issued += 1;
        self.probe.busy = true;
        let id = self.reqs.insert(r);
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }
}
