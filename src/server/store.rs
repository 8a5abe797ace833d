//! The reference server's state: for each project, at most one integration per type.
//!
//! Values are stored as sent (unmasked); masking, defaults and the per-family, per-version view
//! are applied when a response is rendered, so atlas-v1 and atlas-v2 can share the Atlas
//! project. Every operation that checks and writes holds the lock for both, so concurrent
//! requests never see half a change, and a refused request changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use serde_json::{Map, Value};

use crate::model::UpdateRule;

use super::random_hex;

/// One stored integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// The integration type (the discriminator's value).
    pub type_name: String,
    /// Assigned on create (24 lower-case hex digits) and kept across updates; families whose
    /// schema has a read-only field show it there.
    pub id: String,
    /// The settable fields as sent, unmasked; neither the discriminator nor read-only fields.
    pub fields: Map<String, Value>,
}

/// Why a write was refused by the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    NotConfigured,
    AlreadyConfigured,
}

type Projects = HashMap<String, BTreeMap<String, Integration>>;

pub(crate) struct Store {
    inner: Mutex<Projects>,
    /// What deletes left behind, per project: read only by faults (`list-stale-after-delete`,
    /// `total-count-not-decremented`, `next-link-after-delete`, `delete-then-create-409`).
    history: Mutex<HashMap<String, History>>,
}

/// The deletes of a project since the last reset.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    /// How many integrations were deleted.
    pub(crate) deletes: u64,
    /// The types ever deleted.
    pub(crate) deleted_types: std::collections::BTreeSet<String>,
    /// The integration the last delete removed, until the next create or update.
    pub(crate) last_deleted: Option<Integration>,
}

fn new_id() -> String {
    random_hex(12)
}

impl Store {
    pub(crate) fn new() -> Self {
        Store {
            inner: Mutex::new(HashMap::new()),
            history: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Projects> {
        // A panic while holding the lock cannot leave a half-written entry (every write is one
        // insert or remove), so a poisoned lock is safe to use.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn history_lock(&self) -> MutexGuard<'_, HashMap<String, History>> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deletes of a project since the last reset.
    pub(crate) fn history(&self, group: &str) -> History {
        self.history_lock().get(group).cloned().unwrap_or_default()
    }

    /// A write forgets the last deleted integration (it refreshes a list cache).
    fn written(&self, group: &str) {
        if let Some(h) = self.history_lock().get_mut(group) {
            h.last_deleted = None;
        }
    }

    /// Drops every integration, then stores `seed`.
    pub(crate) fn reset(&self, seed: &[(String, Integration)]) {
        self.history_lock().clear();
        let mut inner = self.lock();
        inner.clear();
        for (group, integration) in seed {
            inner
                .entry(group.clone())
                .or_default()
                .insert(integration.type_name.clone(), integration.clone());
        }
    }

    /// Every integration of a project, ordered by type name.
    pub(crate) fn all(&self, group: &str) -> Vec<Integration> {
        Self::all_of(&self.lock(), group)
    }

    fn all_of(inner: &Projects, group: &str) -> Vec<Integration> {
        inner
            .get(group)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn get(&self, group: &str, type_name: &str) -> Option<Integration> {
        self.lock()
            .get(group)
            .and_then(|m| m.get(type_name))
            .cloned()
    }

    /// Creates the integration; returns every integration of the project afterwards.
    /// `overwrite` (a fault) replaces a configured one instead of refusing.
    ///
    /// The check and the write happen under one lock, so of concurrent creates of one type
    /// exactly one succeeds and the others see it configured (contract section 9).
    pub(crate) fn create(
        &self,
        group: &str,
        type_name: &str,
        fields: Map<String, Value>,
        overwrite: bool,
    ) -> Result<Vec<Integration>, StateError> {
        let mut inner = self.lock();
        let project = inner.entry(group.to_owned()).or_default();
        let id = match project.get(type_name) {
            Some(existing) if overwrite => existing.id.clone(),
            Some(_) => return Err(StateError::AlreadyConfigured),
            None => new_id(),
        };
        self.written(group);
        project.insert(
            type_name.to_owned(),
            Integration {
                type_name: type_name.to_owned(),
                id,
                fields,
            },
        );
        Ok(Self::all_of(&inner, group))
    }

    /// Updates per the family's rule (merge or replace; upsert or refuse); returns every
    /// integration of the project afterwards. `new_id` (a fault) assigns a fresh id.
    pub(crate) fn update(
        &self,
        group: &str,
        type_name: &str,
        fields: Map<String, Value>,
        rule: UpdateRule,
        new_id_on_update: bool,
    ) -> Result<Vec<Integration>, StateError> {
        let mut inner = self.lock();
        self.written(group);
        let project = inner.entry(group.to_owned()).or_default();
        match project.get_mut(type_name) {
            Some(existing) => {
                if rule.merge {
                    existing.fields.extend(fields);
                } else {
                    existing.fields = fields;
                }
                if new_id_on_update {
                    existing.id = new_id();
                }
            }
            None if rule.upsert => {
                project.insert(
                    type_name.to_owned(),
                    Integration {
                        type_name: type_name.to_owned(),
                        id: new_id(),
                        fields,
                    },
                );
            }
            None => return Err(StateError::NotConfigured),
        }
        Ok(Self::all_of(&inner, group))
    }

    /// Fault `v2-update-stores-id`: replaces a configured integration's assigned id.
    pub(crate) fn set_id(&self, group: &str, type_name: &str, id: &str) {
        if let Some(existing) = self
            .lock()
            .get_mut(group)
            .and_then(|m| m.get_mut(type_name))
        {
            existing.id = id.to_owned();
        }
    }

    /// Fault `failed-update-partially-applied`: merges `fields` into a configured integration.
    pub(crate) fn patch(&self, group: &str, type_name: &str, fields: Map<String, Value>) {
        if let Some(existing) = self
            .lock()
            .get_mut(group)
            .and_then(|m| m.get_mut(type_name))
        {
            existing.fields.extend(fields);
        }
    }

    /// Fault `update-not-atomic`: [`Store::update`] written one field at a time, with `pause`
    /// before each write and the lock released in between (the first write drops what a replace
    /// drops). Every other such update writes its fields in reverse order, so two concurrent
    /// updates of one type interleave into a mixture of both bodies.
    pub(crate) async fn update_piecemeal(
        &self,
        group: &str,
        type_name: &str,
        fields: Map<String, Value>,
        rule: UpdateRule,
        pause: std::time::Duration,
    ) -> Result<Vec<Integration>, StateError> {
        static TICKETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        self.update(group, type_name, Map::new(), rule, false)?;
        let mut order: Vec<(String, Value)> = fields.into_iter().collect();
        if TICKETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2 == 1 {
            order.reverse();
        }
        for (name, value) in order {
            tokio::time::sleep(pause).await;
            let mut one = Map::new();
            one.insert(name, value);
            self.patch(group, type_name, one);
        }
        let inner = self.lock();
        Ok(Self::all_of(&inner, group))
    }

    /// Removes the integration. `keep` (a fault) answers as if it did, and does not.
    pub(crate) fn delete(
        &self,
        group: &str,
        type_name: &str,
        keep: bool,
    ) -> Result<(), StateError> {
        let mut inner = self.lock();
        let project = inner.entry(group.to_owned()).or_default();
        if !project.contains_key(type_name) {
            return Err(StateError::NotConfigured);
        }
        if !keep {
            let gone = project.remove(type_name);
            let mut history = self.history_lock();
            let h = history.entry(group.to_owned()).or_default();
            h.deletes += 1;
            h.deleted_types.insert(type_name.to_owned());
            h.last_deleted = gone;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn concurrent_creates_of_one_type_have_one_winner() {
        let s = std::sync::Arc::new(Store::new());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    s.create("g", "A", fields(json!({ "k": i })), false).is_ok()
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(won, 1);
        assert_eq!(s.all("g").len(), 1);
    }

    #[test]
    fn create_update_delete() {
        let s = Store::new();
        let all = s
            .create("g", "A", fields(json!({"k": 1, "o": 2})), false)
            .unwrap();
        assert_eq!(all.len(), 1);
        let id = all[0].id.clone();
        assert_eq!(id.len(), 24);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(
            s.create("g", "A", Map::new(), false),
            Err(StateError::AlreadyConfigured)
        );
        let merge = UpdateRule {
            merge: true,
            upsert: false,
        };
        let replace = UpdateRule {
            merge: false,
            upsert: true,
        };
        s.update("g", "A", fields(json!({"k": 3})), merge, false)
            .unwrap();
        assert_eq!(
            s.get("g", "A").unwrap().fields,
            fields(json!({"k": 3, "o": 2}))
        );
        s.update("g", "A", fields(json!({"k": 4})), replace, false)
            .unwrap();
        let a = s.get("g", "A").unwrap();
        assert_eq!(a.fields, fields(json!({"k": 4})));
        assert_eq!(a.id, id, "id kept across updates");
        assert_eq!(
            s.update("g", "B", Map::new(), merge, false),
            Err(StateError::NotConfigured)
        );
        s.update("g", "B", Map::new(), replace, false).unwrap();
        assert_eq!(s.all("g").len(), 2);
        assert_eq!(s.delete("g", "C", false), Err(StateError::NotConfigured));
        s.delete("g", "B", false).unwrap();
        assert_eq!(s.all("g").len(), 1);
        s.reset(&[]);
        assert!(s.all("g").is_empty());
    }
}
