//! Typed ids, and the containers they index.
//!
//! Every thing the model refers to by number has an id type of its own, so a member can never
//! index the hosts, nor a request the messages. Ids are small (`u8` for members and hosts, whose
//! counts the configuration bounds; `u32` for what lives in slabs), so events that carry them
//! stay eight bytes.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// A typed index: a newtype over a small integer.
pub trait Id: Copy {
    /// The position it names.
    fn index(self) -> usize;
    /// The id of position `i` (which must fit the id's integer: the configuration's bounds
    /// guarantee it for members and hosts, the slabs for the rest).
    fn from_index(i: usize) -> Self;
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident($repr:ty);)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $repr);

        impl Id for $name {
            #[inline(always)]
            fn index(self) -> usize {
                self.0 as usize
            }
            #[inline(always)]
            fn from_index(i: usize) -> Self {
                $name(<$repr>::try_from(i).expect(concat!(stringify!($name), " out of range")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

ids! {
    /// A member: its index in the cluster, voters first, then learners (at most 64 members,
    /// by the configuration's rule, so a bit set of members fits a `u64`).
    MemberId(u8);
    /// A host: its index in [`crate::model::ClusterParams::hosts`] (at most 256).
    HostId(u8);
    /// A request in flight: its slot in the model's request slab.
    ReqId(u32);
    /// A message in flight: its slot in the network's message slab.
    MsgId(u32);
    /// A closed-loop client goroutine of the benchmark.
    ClientId(u32);
    /// A gRPC connection of the benchmark (a clientv3 client).
    ConnId(u32);
    /// A Go process: each member (its `MemberId`), then the client, then the proxy.
    ProcId(u8);
}

impl MemberId {
    /// This member's bit in a set of members.
    pub fn bit(self) -> u64 {
        1 << self.0
    }
}

/// A vector indexed by a typed id.
#[derive(Debug, Clone, PartialEq)]
pub struct IdVec<I, T> {
    items: Vec<T>,
    id: PhantomData<I>,
}

impl<I: Id, T> IdVec<I, T> {
    /// The vector of `items`, the first at id 0.
    pub fn from_vec(items: Vec<T>) -> Self {
        IdVec {
            items,
            id: PhantomData,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in id order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The items in id order, mutably.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// Adds `x` at the next id, which it returns.
    pub fn push(&mut self, x: T) -> I {
        self.items.push(x);
        I::from_index(self.items.len() - 1)
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl Iterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::from_index)
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    #[inline(always)]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(it: It) -> Self {
        IdVec::from_vec(it.into_iter().collect())
    }
}

/// Things in flight (requests, messages), each in a slot whose id events carry: a freed slot is
/// reused by the next insertion, so memory follows what is in flight, not what has passed.
#[derive(Debug)]
pub struct Slab<I, T> {
    items: IdVec<I, T>,
    free: Vec<I>,
}

impl<I: Id, T> Default for Slab<I, T> {
    fn default() -> Self {
        Slab {
            items: IdVec::from_vec(Vec::new()),
            free: Vec::new(),
        }
    }
}

impl<I: Id, T> Slab<I, T> {
    /// Puts `x` in a free slot, or a new one; returns its id.
    pub fn insert(&mut self, x: T) -> I {
        match self.free.pop() {
            Some(id) => {
                self.items[id] = x;
                id
            }
            None => {
                self.items.items.push(x);
                I::from_index(self.items.len() - 1)
            }
        }
    }

    /// Frees slot `id` (its value stays readable until the slot is reused).
    pub fn free(&mut self, id: I) {
        self.free.push(id);
    }

    /// The ids of the slots in use, in id order.
    pub fn live_ids(&self) -> impl Iterator<Item = I> + use<I, T> {
        let mut free = vec![false; self.items.len()];
        for id in &self.free {
            free[id.index()] = true;
        }
        (0..self.items.len())
            .filter(move |&i| !free[i])
            .map(I::from_index)
    }

    /// Slots in use.
    pub fn live(&self) -> usize {
        self.items.len() - self.free.len()
    }
}

impl<I: Id, T> Index<I> for Slab<I, T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, id: I) -> &T {
        &self.items[id]
    }
}

impl<I: Id, T> IndexMut<I> for Slab<I, T> {
    #[inline(always)]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slab_reuses_freed_slots_and_counts_the_live_ones() {
        let mut s: Slab<ReqId, u32> = Slab::default();
        let a = s.insert(10);
        let b = s.insert(11);
        assert_eq!((a, b, s.live()), (ReqId(0), ReqId(1), 2));
        s.free(a);
        assert_eq!(s.live(), 1);
        let c = s.insert(12);
        assert_eq!((c, s[c], s[b], s.live()), (ReqId(0), 12, 11, 2));
    }

    #[test]
    #[should_panic(expected = "MemberId out of range")]
    fn an_id_out_of_its_range_is_a_bug() {
        MemberId::from_index(256);
    }
}
