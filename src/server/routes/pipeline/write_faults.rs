//! The state faults of a write, apart from the pipeline that calls them: what a refused write
//! still does (`failed-write-drops-another-type`) and how an update reads what it was sent
//! (`mask-sent-back-kept`, `v2-update-stores-id`).

use serde_json::{Map, Value};

use super::{Ctx, Fault, FaultSet};
use crate::model::IntegrationType;

impl Ctx<'_> {
    /// Fault `failed-write-drops-another-type`: a refused write removes another configured
    /// integration of the project (a rollback that undoes the wrong row).
    pub(super) fn refusal_faults(&self, t: &IntegrationType) {
        if !self.faults.has(Fault::FailedWriteDropsOtherType) {
            return;
        }
        let store = self.state.store();
        let key = self.store_key();
        if let Some(other) = store.all(&key).into_iter().find(|i| i.type_name != t.name) {
            let _ = store.delete(&key, &other.type_name, false);
        }
    }

    /// Faults `mask-sent-back-kept` (a secret sent back as its own mask keeps the stored
    /// value) and `v2-update-stores-id` (an id string in the body replaces the assigned one).
    pub(super) fn update_faults(
        &self,
        t: &IntegrationType,
        fields: &mut Map<String, Value>,
        sent: &Value,
    ) {
        let faults = self.faults;
        let store = self.state.store();
        let Some(old) = store.get(&self.store_key(), &t.name) else {
            return;
        };
        if faults.has(Fault::MaskSentBackKept) {
            for f in &t.fields {
                let (Some(kind), Some(Value::String(was))) = (f.secret, old.fields.get(&f.name))
                else {
                    continue;
                };
                let shown = crate::server::mask::mask(kind, was, FaultSet::default());
                if shown.is_some()
                    && fields.get(&f.name).and_then(Value::as_str) == shown.as_deref()
                {
                    fields.insert(f.name.clone(), Value::String(was.clone()));
                }
            }
        }
        if faults.has(Fault::V2UpdateStoresId) {
            for f in t.fields.iter().filter(|f| f.read_only) {
                if let Some(Value::String(id)) = sent.get(&f.name) {
                    store.set_id(&self.store_key(), &t.name, id);
                }
            }
        }
    }
}
