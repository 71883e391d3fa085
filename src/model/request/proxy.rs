//! etcd's gRPC proxy (`etcd grpc-proxy start`; `server/proxy/grpcproxy/kv.go` and `cache/`):
//! clients connect to it instead of the members. For a serializable range it first looks in its
//! cache and answers from there on a hit; everything else is forwarded to the cluster, and every
//! range response that comes back is cached as if it were serializable ("cache linearizable as
//! serializable"). A put through the proxy invalidates the cached ranges that hold its key.
//! Writes from elsewhere (the background write stream) do not pass the proxy, so they leave its
//! cache stale, as in etcd.
//!
//! Simplifications, stated: keys are drawn uniformly from the store for each request through the
//! proxy (a read caches under its range's first key); a full cache evicts a random entry rather
//! than the least recently used one (under uniform access both give a hit ratio of
//! entries / keys); the proxy forwards to the member the client's balancer would have picked.

use std::collections::HashMap;

use rand::Rng;

use super::super::EtcdModel;
use super::super::event::{CpuJob, PackedEv};
use super::super::ids::{HostId, ReqId};
use super::super::net::{Msg, MsgKind, Node};
use super::super::params::Consistency;
use super::super::result::OpKind;
use super::Phase;
use crate::engine::Scheduler;
use crate::engine::rng::SimRng;

/// The proxy's response cache: ranges by first key.
#[derive(Debug)]
pub struct ProxyCache {
    slot: HashMap<u64, usize>,
    keys: Vec<u64>,
    /// Draws keys for requests and eviction victims.
    rng: SimRng,
    /// Serializable ranges answered from the cache.
    pub hits: u64,
    /// Serializable ranges that missed and were forwarded.
    pub misses: u64,
}

impl ProxyCache {
    /// An empty cache drawing from `rng`.
    pub fn new(rng: SimRng) -> ProxyCache {
        ProxyCache {
            slot: HashMap::new(),
            keys: Vec::new(),
            rng,
            hits: 0,
            misses: 0,
        }
    }

    fn contains(&self, key: u64) -> bool {
        self.slot.contains_key(&key)
    }

    fn remove(&mut self, key: u64) {
        if let Some(i) = self.slot.remove(&key) {
            self.keys.swap_remove(i);
            if let Some(&moved) = self.keys.get(i) {
                self.slot.insert(moved, i);
            }
        }
    }

    fn insert(&mut self, key: u64, capacity: u64) {
        if self.contains(key) {
            return;
        }
        if self.keys.len() as u64 >= capacity {
            let victim = self.keys[self.rng.random_range(0..self.keys.len())];
            self.remove(victim);
        }
        self.slot.insert(key, self.keys.len());
        self.keys.push(key);
    }

    /// Drops every cached range `[start, start + span)` that holds `key`.
    fn invalidate(&mut self, key: u64, span: u64) {
        if span as usize <= self.keys.len() {
            for start in key.saturating_sub(span - 1)..=key {
                self.remove(start);
            }
        } else {
            let stale: Vec<u64> = self
                .keys
                .iter()
                .copied()
                .filter(|&st| st <= key && key < st + span)
                .collect();
            for st in stale {
                self.remove(st);
            }
        }
    }

    /// Entries held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the cache is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl EtcdModel {
    /// Whether request `id` travels through the proxy: every client request when the model has
    /// one, but not the background writes, which come from elsewhere.
    pub(in super::super) fn via_proxy(&self, id: ReqId) -> bool {
        self.p.proxy.is_some() && !self.reqs[id].background
    }

    fn proxy_host(&self) -> HostId {
        self.p.proxy.as_ref().expect("no proxy in this model").host
    }

    /// A request or its response reaches the proxy: its CPU handles it.
    pub(in super::super) fn at_proxy(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &mut self.reqs[id];
        r.phase = if r.phase == Phase::ToClient {
            Phase::ProxyReturn
        } else {
            Phase::ProxyRecv
        };
        self.go(self.proxy_proc(), CpuJob::Req(id), s);
    }

    /// The proxy has decoded a request: answer it from the cache, or forward it.
    pub(super) fn proxy_routed(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let span = self.w.range.keys_in_range.max(1);
        let keys = self.w.range.total_keys.max(span);
        let r = &self.reqs[id];
        let (kind, auth_pending) = (r.kind, r.auth_pending);
        let key = match kind {
            OpKind::Read => self.proxy_cache.rng.random_range(0..=keys - span),
            OpKind::Write => self.proxy_cache.rng.random_range(0..keys),
            OpKind::Expensive => u64::MAX,
        };
        self.reqs[id].key = key;
        let cacheable = kind == OpKind::Read
            && !auth_pending
            && self.consistency_of(id) == Consistency::Serializable;
        if cacheable && self.proxy_cache.contains(key) {
            self.proxy_cache.hits += 1;
            let r = &mut self.reqs[id];
            r.cache_hit = true;
            r.phase = Phase::ProxyReturn;
            self.go(self.proxy_proc(), CpuJob::Req(id), s);
            return;
        }
        if cacheable {
            self.proxy_cache.misses += 1;
        }
        let r = &mut self.reqs[id];
        r.phase = Phase::ToMember;
        let member = r.member;
        let msg = Msg {
            from_host: self.proxy_host(),
            from: Node::Proxy,
            to: Node::Member(member),
            kind: MsgKind::Request(id),
            bytes: self.request_bytes(id),
            term: 0,
        };
        self.send(msg, s);
    }

    /// The proxy has encoded a response: update the cache and send it to the client.
    pub(super) fn proxy_relayed(&mut self, id: ReqId, s: &mut Scheduler<PackedEv>) {
        let r = &self.reqs[id];
        let capacity = self.p.proxy.as_ref().map_or(1, |x| x.cache_entries);
        if !r.auth_pending && !r.failed && !r.cache_hit {
            match r.kind {
                OpKind::Read => self.proxy_cache.insert(r.key, capacity),
                OpKind::Write => {
                    let span = self.w.range.keys_in_range.max(1);
                    self.proxy_cache.invalidate(r.key, span);
                }
                OpKind::Expensive => {}
            }
        }
        self.reqs[id].phase = Phase::ToClient;
        let msg = Msg {
            from_host: self.proxy_host(),
            from: Node::Proxy,
            to: Node::Client,
            kind: MsgKind::Response(id),
            bytes: self.response_bytes(id),
            term: 0,
        };
        self.send(msg, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_evicts_at_capacity_and_invalidates_covering_ranges() {
        let mut c = ProxyCache::new(crate::engine::rng::stream(1, 0));
        for k in 0..10 {
            c.insert(k, 4);
        }
        assert_eq!(c.len(), 4);
        let mut c = ProxyCache::new(crate::engine::rng::stream(1, 0));
        for k in [10, 12, 20] {
            c.insert(k, 100);
        }
        // Ranges of 3 keys: [10,13) and [12,15) hold key 12; [20,23) does not.
        c.invalidate(12, 3);
        assert!(!c.contains(10) && !c.contains(12) && c.contains(20));
        // A span longer than the cache takes the other path.
        c.insert(5, 100);
        c.invalidate(30, 1000);
        assert!(!c.contains(5) && !c.contains(20) && c.is_empty());
    }
}
