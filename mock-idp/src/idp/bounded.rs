//! A map that keeps at most a fixed number of entries, dropping the oldest
//! first, so sessions, pending sign-ins, codes and tokens cannot grow
//! without bound however many requests arrive.

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

#[cfg(test)]
mod tests {
    use super::*;

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
