//! Authentication on a request's path (`auth/store.go`, `auth/simple_token.go`,
//! `auth/jwt.go`): the token check (a simple token under `simpleTokensMu`, or a JWT signature
//! check), the RBAC permission check under the lock the version takes, clientv3's
//! Authenticate call (a linearizable read, a bcrypt comparison, a raft write), and the TLS
//! handshake of certificate auth.

use super::super::EtcdModel;
use super::super::cpu::GO_PREEMPT;
use super::super::event::{CpuJob, PackedEv};
use super::super::ids::ReqId;
use super::super::locks::{Lock, LockJob, Mode};
use super::super::params::{AuthMode, RbacLock};
use super::super::stage::Stage;
use super::{Phase, ns};
use crate::engine::{Scheduler, SimDuration};

impl EtcdModel {
    /// The token check, by the workload's auth mode.
    pub(super) fn check_token(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        match self.w.auth {
            AuthMode::SimpleToken | AuthMode::Password => {
                let r = &mut self.reqs[id];
                r.phase = Phase::TokenCheck;
                let m = r.member;
                self.enter(id, Stage::LockWait, s.now());
                if self.lock(m, Lock::TokenMu, Mode::Exclusive, LockJob::Req(id), s) {
                    self.run_on_member(id, s);
                }
            }
            AuthMode::Jwt => {
                self.reqs[id].phase = Phase::JwtCheck;
                self.run_on_member(id, s);
            }
            AuthMode::Cert => self.after_token(id, s),
            AuthMode::None => self.authorized(id, s),
        }
    }

    /// The simple token was looked up: its mutex goes.
    pub(super) fn token_checked(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.unlock(self.reqs[id].member, Lock::TokenMu, Mode::Exclusive, s);
        self.after_token(id, s);
    }

    /// The token is valid (or the user came from a certificate): a range's RBAC check, or a
    /// put's proposal (its permission is checked at apply).
    pub(super) fn after_token(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        if r.kind == super::OpKind::Write {
            self.authorized(id, s);
            return;
        }
        r.phase = Phase::Rbac;
        let m = r.member;
        self.enter(id, Stage::LockWait, s.now());
        let (lock, mode) = self.rbac_lock();
        if self.lock(m, lock, mode, LockJob::Req(id), s) {
            self.run_on_member(id, s);
        }
    }

    /// The lock `isOpPermitted` takes in this version.
    fn rbac_lock(&self) -> (Lock, Mode) {
        match self.p.mechanisms.rbac_lock {
            RbacLock::BatchTx => (Lock::BatchTx, Mode::Exclusive),
            RbacLock::ReadTxExclusive => (Lock::ReadTx, Mode::Exclusive),
            RbacLock::Shared => (Lock::ReadTx, Mode::Shared),
        }
    }

    /// The permission check is done: its lock goes, and the range opens its transaction.
    pub(super) fn rbac_checked(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let (lock, mode) = self.rbac_lock();
        self.unlock(self.reqs[id].member, lock, mode, s);
        self.authorized(id, s);
    }

    /// The CPU of one RBAC permission check: an interval-tree lookup, O(log rules).
    pub(in super::super) fn rbac_cost(&mut self) -> SimDuration {
        let c = &self.p.member_costs;
        let rules = f64::from(self.w.rbac_rules.max(1)).log2();
        c.rbac.sample(&mut self.rng_cpu) + ns(c.rbac_us_per_log2_rule * rules * 1e3)
    }

    /// Authenticate's password check: bcrypt, under the backend batch-tx lock before 3.4.9 (the
    /// lock stays held while Go preempts the goroutine).
    pub(super) fn authenticate(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let m = self.reqs[id].member;
        if self.p.mechanisms.bcrypt_under_lock {
            self.reqs[id].phase = Phase::AuthLock;
            if !self.lock(m, Lock::BatchTx, Mode::Exclusive, LockJob::Req(id), s) {
                return;
            }
        }
        self.bcrypt_start(id, s);
    }

    /// The bcrypt comparison begins.
    pub(super) fn bcrypt_start(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let d = self.p.member_costs.bcrypt.sample(&mut self.rng_cpu);
        let scaled = (d.0 as f64 * self.p.member_costs.bcrypt_scale) as u64;
        let r = &mut self.reqs[id];
        r.phase = Phase::Bcrypt;
        r.bcrypt_left = scaled.max(1);
        self.run_on_member(id, s);
    }

    /// The next slice of bcrypt: Go preempts a goroutine after 10 ms on a core.
    pub(super) fn bcrypt_slice(&mut self, id: ReqId) -> SimDuration {
        let r = &mut self.reqs[id];
        let slice = r.bcrypt_left.min(GO_PREEMPT.0);
        r.bcrypt_left -= slice;
        SimDuration(slice)
    }

    /// A bcrypt slice ended: preempted, it queues again; finished, Authenticate ends with a
    /// raft write (the InternalAuthenticateRequest), which goes through `raftRequestOnce`'s
    /// "too many requests" check like any proposal.
    pub(super) fn bcrypt_slice_done(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &self.reqs[id];
        let m = r.member;
        if r.bcrypt_left > 0 {
            self.preempt(self.member_proc(m), CpuJob::Req(id), s.now());
            return;
        }
        if self.p.mechanisms.bcrypt_under_lock {
            self.unlock(m, Lock::BatchTx, Mode::Exclusive, s);
        }
        if self.apply_lag(m) > self.p.write.max_apply_lag {
            let r = &mut self.reqs[id];
            r.failed = true;
            r.auth_pending = false;
            self.respond(id, s);
        } else {
            self.propose(id, s);
        }
    }

    /// Authenticate's answer reached the client: with the token, clientv3 now sends the
    /// request itself.
    pub(super) fn token_received(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        self.enter(id, Stage::Client, s.now());
        let r = &mut self.reqs[id];
        r.auth_pending = false;
        r.phase = Phase::ClientSend;
        if let Some(c) = r.client {
            self.clients.token_received(c);
        }
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }
}
