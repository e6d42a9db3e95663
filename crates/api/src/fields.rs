//! Versioned field sets: which fields of a resource exist at which microversion, the
//! short field set of plain listings, and shaping a rendered resource for a request
//! (hide fields newer than the request, keep only `?fields=`).

use std::collections::HashMap;
use std::sync::OnceLock;

use ferric_types::Microversion;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The fields of one resource type.
pub struct FieldSet {
    /// Every field and the minor version that introduced it.
    pub all: &'static [(&'static str, u16)],
    /// Fields of a list entry without `detail` or `fields`.
    pub list_default: &'static [&'static str],
    /// `all` as a map, built on first use (rendering asks once per key per item).
    index: OnceLock<HashMap<&'static str, u16>>,
}

/// Which fields a response carries.
#[derive(Clone)]
pub enum Selection {
    /// Every field the version knows, with sub-resource links.
    Full,
    /// The default list set.
    Short,
    /// Exactly these (validated) fields.
    Only(Vec<String>),
}

impl FieldSet {
    pub const fn new(
        all: &'static [(&'static str, u16)],
        list_default: &'static [&'static str],
    ) -> Self {
        Self {
            all,
            list_default,
            index: OnceLock::new(),
        }
    }

    /// The version that introduced `field`, if it is a field of this resource.
    pub fn since(&self, field: &str) -> Option<u16> {
        self.index
            .get_or_init(|| self.all.iter().copied().collect())
            .get(field)
            .copied()
    }

    pub fn visible(&self, field: &str, version: Microversion) -> bool {
        self.since(field).is_some_and(|v| version.at_least(v))
    }

    /// Parses `?fields=a,b` against the set: unknown → 400, too new → 406.
    pub fn parse_selection(
        &self,
        csv: &str,
        version: Microversion,
    ) -> Result<Vec<String>, ApiError> {
        let mut out: Vec<String> = Vec::new();
        for field in csv.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match self.since(field) {
                None => {
                    return Err(ApiError::bad_request(format!(
                        "Field(s) \"{field}\" are not valid"
                    )))
                }
                Some(v) if !version.at_least(v) => {
                    return Err(ApiError::not_acceptable(format!(
                        "The field \"{field}\" is not available in API version {version}."
                    )))
                }
                Some(_) => {
                    if !out.iter().any(|f| f == field) {
                        out.push(field.to_string());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether a response for `version` and `selection` shows `key`: the full view
    /// shows whatever the version knows (and entries that are not fields), the
    /// others only their fields.
    pub fn shows(&self, key: &str, version: Microversion, selection: &Selection) -> bool {
        let since = self.since(key);
        let selected = match selection {
            Selection::Full => return since.is_none_or(|v| version.at_least(v)),
            Selection::Short => self.list_default.contains(&key),
            Selection::Only(list) => list.iter().any(|f| f == key),
        };
        selected && since.is_some_and(|v| version.at_least(v))
    }

    /// Keeps what the version and the selection include. `links` always stays; other
    /// entries that are not fields (sub-resource links) stay only for a full view.
    pub fn shape(
        &self,
        mut obj: Map<String, Value>,
        version: Microversion,
        selection: &Selection,
    ) -> Map<String, Value> {
        if matches!(selection, Selection::Full) {
            obj.retain(|key, _| self.shows(key, version, selection));
            return obj;
        }
        let mut out = Map::new();
        for (field, _) in self.all {
            if self.shows(field, version, selection) {
                if let Some(v) = obj.remove(*field) {
                    out.insert((*field).to_string(), v);
                }
            }
        }
        if let Some(links) = obj.remove("links") {
            out.insert("links".into(), links);
        }
        out
    }
}
