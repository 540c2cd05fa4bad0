//! A map and a list that keep at most a fixed number of entries and a fixed
//! number of (estimated) bytes, dropping the oldest first, so sessions,
//! pending sign-ins, codes, tokens and armed faults cannot grow without
//! bound however many requests arrive, nor however large each one is.
//!
//! A count alone does not bound memory: 200,000 records of two kilobytes
//! each are 400 MB. Every value therefore says how many bytes it holds
//! ([`Footprint`]), and the table drops its oldest entries once their sum
//! passes its byte budget, whichever limit comes first.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// What the allocator takes for one heap allocation beyond the bytes asked
/// for (glibc's chunk header and rounding, about 16 bytes).
pub(crate) const ALLOCATION_OVERHEAD: usize = 16;

/// What one entry costs a [`BoundedMap`] beyond its key and value: a hash
/// table slot with its control byte and spare capacity (the table is at
/// most seven-eighths full and doubles as it grows), and the order queue's
/// slot.
const MAP_ENTRY_OVERHEAD: usize = 48;

/// The byte budget of a map made with [`BoundedMap::new`]: small tables
/// (sessions, pending sign-ins, pushed requests) need no more.
pub(crate) const DEFAULT_BYTE_BUDGET: usize = 2 * 1024 * 1024;

/// The byte budget of a [`BoundedList`]: room for its 10,000 newest armed
/// faults of the usual size (a few hundred bytes each).
pub(crate) const LIST_BYTE_BUDGET: usize = 4 * 1024 * 1024;

/// The bytes a value holds, estimated: itself and what it owns on the heap.
/// Estimates may be high but should not be low, since the byte budget is
/// only as good as they are.
pub(crate) trait Footprint {
    fn footprint(&self) -> usize;
}

/// The bytes a string holds on the heap, allocator overhead included.
pub(crate) fn string_heap_bytes(text: &str) -> usize {
    if text.is_empty() { 0 } else { text.len() + ALLOCATION_OVERHEAD }
}

/// An upper estimate for values that are rare enough not to need a
/// hand-written one (sessions, pending sign-ins, pushed requests, armed
/// faults): the value's own size plus the length of its `Debug` text, which
/// spells out every string it holds (and more: field names and quotes).
/// It is counted, not written out, so it allocates nothing.
pub(crate) fn debug_footprint<T: std::fmt::Debug>(value: &T) -> usize {
    struct Counter(usize);
    impl std::fmt::Write for Counter {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0 += text.len();
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail; a `Debug` that fails counts what it wrote.
    let _ = std::fmt::write(&mut counter, format_args!("{value:?}"));
    std::mem::size_of::<T>() + counter.0
}

impl Footprint for String {
    fn footprint(&self) -> usize {
        std::mem::size_of::<String>() + string_heap_bytes(self)
    }
}

impl Footprint for i64 {
    fn footprint(&self) -> usize {
        std::mem::size_of::<i64>()
    }
}

impl Footprint for [u8; 32] {
    fn footprint(&self) -> usize {
        32
    }
}

impl Footprint for super::MockSession {
    fn footprint(&self) -> usize {
        // Counted by hand: a session is made on every sign-in.
        std::mem::size_of::<Self>() + string_heap_bytes(self.user.as_str())
    }
}

impl Footprint for super::Pending {
    fn footprint(&self) -> usize {
        debug_footprint(self)
    }
}

impl Footprint for super::ArmedSamlFault {
    fn footprint(&self) -> usize {
        debug_footprint(self)
    }
}

/// A map that keeps at most `limit` entries and `byte_budget` estimated
/// bytes, dropping the oldest first.
///
/// `map` is open for lookups and changes in place. An entry removed through
/// it keeps its place (and the bytes it was counted at) in the order until
/// it ages out, so the accounted bytes are an upper bound of what the map
/// holds; keys here are random tokens, never inserted again once removed.
/// Inserting under a key already present replaces the value in the key's
/// place and counts the new value instead. A value's footprint must not
/// change while it is in the map (a value that grows in place counts the
/// room it may grow into from the start).
#[derive(Debug)]
pub(crate) struct BoundedMap<T, K = String> {
    pub(crate) map: HashMap<K, T>,
    /// Keys in insertion order, each with the bytes its entry was counted at.
    order: VecDeque<(K, usize)>,
    limit: usize,
    byte_budget: usize,
    bytes: usize,
}

impl<T: Footprint, K: Eq + Hash + Clone + Footprint> BoundedMap<T, K> {
    /// A map of at most `limit` entries and [`DEFAULT_BYTE_BUDGET`] bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self::with_byte_budget(limit, DEFAULT_BYTE_BUDGET)
    }

    /// A map of at most `limit` entries and `byte_budget` estimated bytes.
    pub(crate) fn with_byte_budget(limit: usize, byte_budget: usize) -> Self {
        BoundedMap { map: HashMap::new(), order: VecDeque::new(), limit, byte_budget, bytes: 0 }
    }

    /// What an entry is counted at. The key is held twice: by the map and
    /// by the order queue.
    fn entry_bytes(key: &K, value: &T) -> usize {
        2 * key.footprint() + value.footprint() + MAP_ENTRY_OVERHEAD
    }

    pub(crate) fn insert(&mut self, key: K, value: T) {
        let size = Self::entry_bytes(&key, &value);
        if self.map.insert(key.clone(), value).is_some() {
            // A replacement keeps the key's place and is counted at the new
            // value's size. Only small tables replace values (one ID token
            // per client and user), so the search is short.
            if let Some(entry) = self.order.iter_mut().rev().find(|(queued, _)| *queued == key) {
                self.bytes = (self.bytes + size).saturating_sub(entry.1);
                entry.1 = size;
            }
        } else {
            self.order.push_back((key, size));
            self.bytes += size;
        }
        while self.order.len() > self.limit || (self.bytes > self.byte_budget && !self.order.is_empty()) {
            if let Some((old, counted)) = self.order.pop_front() {
                self.map.remove(&old);
                self.bytes = self.bytes.saturating_sub(counted);
            }
        }
        // An empty map gives its capacity back, so a flood that has aged
        // out leaves nothing reserved behind it.
        if self.map.is_empty() {
            self.map.shrink_to_fit();
        }
    }

    /// The estimated bytes of the entries kept (and of entries removed
    /// through `map` that have not aged out yet).
    pub(crate) fn accounted_bytes(&self) -> usize {
        self.bytes
    }

    /// How many entries the map holds.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// A list in arrival order that keeps at most `limit` entries and
/// [`LIST_BYTE_BUDGET`] estimated bytes, dropping the oldest first.
/// Armed faults live in one: they are taken first-come, first-served, so the
/// order matters and a map would lose it.
#[derive(Debug)]
pub(crate) struct BoundedList<T> {
    /// Each item with the bytes it was counted at.
    items: VecDeque<(T, usize)>,
    limit: usize,
    byte_budget: usize,
    bytes: usize,
}

impl<T: Clone + Footprint> BoundedList<T> {
    pub(crate) fn new(limit: usize) -> Self {
        BoundedList { items: VecDeque::new(), limit, byte_budget: LIST_BYTE_BUDGET, bytes: 0 }
    }

    pub(crate) fn push(&mut self, item: T) {
        let size = item.footprint();
        self.items.push_back((item, size));
        self.bytes += size;
        while self.items.len() > self.limit || (self.bytes > self.byte_budget && !self.items.is_empty()) {
            if let Some((_, size)) = self.items.pop_front() {
                self.bytes -= size;
            }
        }
    }

    /// Removes and returns the oldest entry that `matches`.
    pub(crate) fn take_first(&mut self, mut matches: impl FnMut(&T) -> bool) -> Option<T> {
        let index = self.items.iter().position(|(item, _)| matches(item))?;
        let (item, size) = self.items.remove(index)?;
        self.bytes -= size;
        Some(item)
    }

    /// The oldest entry that `matches`, left in place.
    pub(crate) fn first(&self, mut matches: impl FnMut(&&T) -> bool) -> Option<&T> {
        self.items.iter().map(|(item, _)| item).find(|item| matches(item))
    }

    /// Keeps only the entries that `keep` accepts, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut dropped = 0;
        self.items.retain(|(item, size)| {
            let kept = keep(item);
            if !kept {
                dropped += size;
            }
            kept
        });
        self.bytes -= dropped;
    }

    pub(crate) fn to_vec(&self) -> Vec<T> {
        self.items.iter().map(|(item, _)| item.clone()).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The estimated bytes of the entries kept.
    pub(crate) fn accounted_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_keeps_the_newest_entries_in_order() {
        let mut list = BoundedList::new(2);
        for item in [1i64, 2, 3] {
            list.push(item);
        }
        assert_eq!(list.to_vec(), vec![2, 3]);
        assert_eq!(list.take_first(|item| *item > 1), Some(2));
        assert_eq!(list.to_vec(), vec![3]);
        assert_eq!(list.accounted_bytes(), 8);
        list.retain(|_| false);
        assert_eq!(list.accounted_bytes(), 0);
    }

    #[test]
    fn oldest_entries_go_first() {
        let mut map = BoundedMap::new(2);
        for key in ["a", "b", "c"] {
            map.insert(key.to_owned(), key.to_owned());
        }
        assert!(!map.map.contains_key("a"));
        assert!(map.map.contains_key("b") && map.map.contains_key("c"));
    }

    #[test]
    fn the_byte_budget_drops_the_oldest_before_the_count_does() {
        // Each entry: a 1,000-byte value and a short key, about 1,150 bytes.
        let mut map = BoundedMap::with_byte_budget(1_000, 10_000);
        for n in 0..100 {
            map.insert(format!("key {n}"), "v".repeat(1_000));
            assert!(map.accounted_bytes() <= 10_000, "{} after {n}", map.accounted_bytes());
        }
        assert_eq!(map.len(), 8, "as many of the newest as fit in the budget");
        assert!(map.map.contains_key("key 99") && !map.map.contains_key("key 91"));
    }

    #[test]
    fn a_replaced_value_is_counted_at_its_new_size() {
        let mut map = BoundedMap::with_byte_budget(10, 100_000);
        map.insert("key".to_owned(), "v".repeat(1_000));
        let with_long = map.accounted_bytes();
        map.insert("key".to_owned(), "v".to_owned());
        assert_eq!(with_long - map.accounted_bytes(), 999);
        map.insert("other".to_owned(), "w".to_owned());
        map.map.remove("key");
        for n in 0..20 {
            map.insert(format!("more {n}"), String::new());
        }
        assert_eq!(map.len(), 10);
        let ten = map.accounted_bytes();
        assert_eq!(ten, 10 * BoundedMap::<String>::entry_bytes(&"more 10".to_owned(), &String::new()));
    }

    #[test]
    fn a_value_over_the_budget_is_not_kept() {
        let mut map = BoundedMap::with_byte_budget(10, 100);
        map.insert("big".to_owned(), "v".repeat(1_000));
        assert_eq!((map.len(), map.accounted_bytes()), (0, 0));
    }

    #[test]
    fn the_list_drops_the_oldest_past_its_byte_budget() {
        let mut list = BoundedList::new(1_000_000);
        for n in 0..10_000 {
            list.push("x".repeat(1_000) + &n.to_string());
        }
        assert!(list.accounted_bytes() <= LIST_BYTE_BUDGET);
        assert!(list.to_vec().last().is_some_and(|last| last.ends_with("9999")));
    }
}
