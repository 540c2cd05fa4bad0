//! A map and a list that keep at most a fixed number of entries, dropping
//! the oldest first, so sessions, pending sign-ins, codes, tokens and armed
//! faults cannot grow without bound however many requests arrive.

use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
pub(super) struct BoundedMap<T> {
    pub(super) map: HashMap<String, T>,
    order: VecDeque<String>,
    limit: usize,
}

impl<T> BoundedMap<T> {
    pub(super) fn new(limit: usize) -> Self {
        BoundedMap { map: HashMap::new(), order: VecDeque::new(), limit }
    }

    pub(super) fn insert(&mut self, key: String, value: T) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.limit {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// A list in arrival order that keeps at most `limit` entries, dropping the
/// oldest first. Armed faults live in one: they are taken first-come,
/// first-served, so the order matters and a map would lose it.
#[derive(Debug)]
pub(super) struct BoundedList<T> {
    items: VecDeque<T>,
    limit: usize,
}

impl<T: Clone> BoundedList<T> {
    pub(super) fn new(limit: usize) -> Self {
        BoundedList { items: VecDeque::new(), limit }
    }

    pub(super) fn push(&mut self, item: T) {
        self.items.push_back(item);
        while self.items.len() > self.limit {
            self.items.pop_front();
        }
    }

    /// Removes and returns the oldest entry that `matches`.
    pub(super) fn take_first(&mut self, matches: impl FnMut(&T) -> bool) -> Option<T> {
        let index = self.items.iter().position(matches)?;
        self.items.remove(index)
    }

    /// The oldest entry that `matches`, left in place.
    pub(super) fn first(&self, matches: impl FnMut(&&T) -> bool) -> Option<&T> {
        self.items.iter().find(matches)
    }

    /// Keeps only the entries that `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }

    pub(super) fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }

    pub(super) fn clear(&mut self) {
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_keeps_the_newest_entries_in_order() {
        let mut list = BoundedList::new(2);
        for item in [1, 2, 3] {
            list.push(item);
        }
        assert_eq!(list.to_vec(), vec![2, 3]);
        assert_eq!(list.take_first(|item| *item > 1), Some(2));
        assert_eq!(list.to_vec(), vec![3]);
    }

    #[test]
    fn oldest_entries_go_first() {
        let mut map = BoundedMap::new(2);
        for key in ["a", "b", "c"] {
            map.insert(key.to_owned(), key);
        }
        assert!(!map.map.contains_key("a"));
        assert!(map.map.contains_key("b") && map.map.contains_key("c"));
    }
}
