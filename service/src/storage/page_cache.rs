//! Encoded list pages, kept while the table has not changed: anonymous
//! list_users asks the same questions again and again, and each answer can be
//! megabytes of JSON built from the whole table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pages kept at most; past that the cache starts over.
const MAX_PAGES: usize = 64;

/// Encoded pages by query, all of one table generation.
#[derive(Default)]
pub(crate) struct PageCache(Mutex<Pages>);

#[derive(Default)]
struct Pages {
    generation: u64,
    pages: HashMap<String, Arc<Vec<u8>>>,
}

impl PageCache {
    /// The page for `query`, if it was made at `generation`.
    pub(crate) fn get(&self, query: &str, generation: u64) -> Option<Arc<Vec<u8>>> {
        let p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (p.generation == generation)
            .then(|| p.pages.get(query).cloned())
            .flatten()
    }

    /// Keeps the page for `query`, made at `generation`; pages of another
    /// generation are dropped.
    pub(crate) fn put(&self, query: String, generation: u64, page: Arc<Vec<u8>>) {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if p.generation != generation || p.pages.len() >= MAX_PAGES {
            p.pages.clear();
            p.generation = generation;
        }
        p.pages.insert(query, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_kept_for_its_generation_only() {
        let c = PageCache::default();
        c.put("q".into(), 7, Arc::new(b"page".to_vec()));
        assert_eq!(
            c.get("q", 7).as_deref().map(Vec::as_slice),
            Some(&b"page"[..])
        );
        assert!(c.get("q", 8).is_none());
        assert!(c.get("other", 7).is_none());
        c.put("r".into(), 8, Arc::new(vec![]));
        assert!(
            c.get("q", 7).is_none(),
            "a newer generation drops the old pages"
        );
    }
}
