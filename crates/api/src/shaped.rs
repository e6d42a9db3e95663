//! Rendering a stored resource straight into its response JSON. The resource's own
//! `Serialize` output passes through a filter, field by field: fields the
//! microversion or the `?fields=` selection leaves out are skipped, masked or
//! redacted ones are replaced, and the links follow. No `serde_json::Value` of the
//! resource is ever built, which is what keeps a listing of thousands of nodes fast
//! and its memory flat.

use serde::ser::{
    self, Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer,
};
use serde_json::Value;

use ferric_types::secrets::Masked;
use ferric_types::Microversion;

use crate::fields::{FieldSet, Selection};

/// What a field shows instead of its stored value.
pub enum Replacement<'a> {
    /// A value of its own (an older version's spelling, a redaction text).
    Value(Value),
    /// The stored object with its secrets masked.
    Masked(Masked<'a>),
}

impl Serialize for Replacement<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Replacement::Value(v) => v.serialize(serializer),
            Replacement::Masked(m) => m.serialize(serializer),
        }
    }
}

/// One resource as a response shows it.
pub struct Shaped<'a, T> {
    item: &'a T,
    fields: &'static FieldSet,
    version: Microversion,
    selection: &'a Selection,
    replaced: Vec<(&'static str, Replacement<'a>)>,
    hidden: &'static [&'static str],
    links: Links<'a>,
    sub_resources: Vec<&'static str>,
}

impl<'a, T: Serialize> Shaped<'a, T> {
    /// `item` shaped for `version` and `selection`, its links under
    /// `base`/[v1/]`path`.
    pub fn new(
        item: &'a T,
        fields: &'static FieldSet,
        version: Microversion,
        selection: &'a Selection,
        base: &'a str,
        path: String,
    ) -> Self {
        Self {
            item,
            fields,
            version,
            selection,
            replaced: Vec::new(),
            hidden: &[],
            links: Links {
                base,
                path,
                bookmark: true,
            },
            sub_resources: Vec::new(),
        }
    }

    /// Shows `field` as `with` (when the field is shown at all).
    pub fn replace(&mut self, field: &'static str, with: Replacement<'a>) -> &mut Self {
        match self.replaced.iter_mut().find(|(f, _)| *f == field) {
            Some(slot) => slot.1 = with,
            None => self.replaced.push((field, with)),
        }
        self
    }

    /// Stored fields no response shows.
    pub fn hide(&mut self, fields: &'static [&'static str]) -> &mut Self {
        self.hidden = fields;
        self
    }

    /// The links carry no `bookmark`.
    pub fn self_link_only(&mut self) -> &mut Self {
        self.links.bookmark = false;
        self
    }

    /// Links to a sub-resource (`ports`, `states`…), shown in the full view.
    pub fn sub_resource(&mut self, name: &'static str) -> &mut Self {
        self.sub_resources.push(name);
        self
    }

    /// Whether the full view (every field, sub-resource links) is asked for.
    pub fn is_full(&self) -> bool {
        matches!(self.selection, Selection::Full)
    }

    /// The rendered resource as a JSON value (single-resource answers that are
    /// changed further before they go out).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn keeps(&self, field: &str) -> bool {
        !self.hidden.contains(&field) && self.fields.shows(field, self.version, self.selection)
    }
}

impl<T: Serialize> Serialize for Shaped<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.item.serialize(Filter {
            shaped: self,
            out: serializer,
        })
    }
}

/// `[{"href": base/v1/path, "rel": "self"}, {"href": base/path, "rel": "bookmark"}]`,
/// written without building the strings.
struct Links<'a> {
    base: &'a str,
    path: String,
    bookmark: bool,
}

impl Links<'_> {
    fn under<'s>(&'s self, sub: &'s str) -> LinkPair<'s> {
        LinkPair {
            base: self.base,
            path: &self.path,
            sub,
            bookmark: self.bookmark,
        }
    }
}

/// The link pair of `base`/[v1/]`path`[/`sub`], the bookmark optional.
pub(crate) struct LinkPair<'a> {
    pub base: &'a str,
    pub path: &'a str,
    pub sub: &'a str,
    pub bookmark: bool,
}

impl Serialize for LinkPair<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(1 + usize::from(self.bookmark)))?;
        seq.serialize_element(&Link {
            pair: self,
            versioned: true,
        })?;
        if self.bookmark {
            seq.serialize_element(&Link {
                pair: self,
                versioned: false,
            })?;
        }
        seq.end()
    }
}

struct Link<'a> {
    pair: &'a LinkPair<'a>,
    versioned: bool,
}

impl Serialize for Link<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let LinkPair {
            base, path, sub, ..
        } = self.pair;
        let v1 = if self.versioned { "/v1" } else { "" };
        let slash = if sub.is_empty() { "" } else { "/" };
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("href", &format_args!("{base}{v1}/{path}{slash}{sub}"))?;
        map.serialize_entry("rel", if self.versioned { "self" } else { "bookmark" })?;
        map.end()
    }
}

/// The serializer a resource writes itself into: only a struct gets through, as a
/// map of the fields `shaped` keeps.
struct Filter<'s, 'a, T, S> {
    shaped: &'s Shaped<'a, T>,
    out: S,
}

/// The entries of the shaped resource, then its links.
struct FilterStruct<'s, 'a, T, M> {
    shaped: &'s Shaped<'a, T>,
    map: M,
}

impl<T: Serialize, M: SerializeMap> SerializeStruct for FilterStruct<'_, '_, T, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), M::Error> {
        if !self.shaped.keeps(key) {
            return Ok(());
        }
        match self.shaped.replaced.iter().find(|(f, _)| *f == key) {
            Some((_, with)) => self.map.serialize_entry(key, with),
            None => self.map.serialize_entry(key, value),
        }
    }

    fn end(mut self) -> Result<M::Ok, M::Error> {
        let shaped = self.shaped;
        self.map.serialize_entry("links", &shaped.links.under(""))?;
        if shaped.is_full() {
            for sub in &shaped.sub_resources {
                self.map.serialize_entry(sub, &shaped.links.under(sub))?;
            }
        }
        self.map.end()
    }
}

fn not_a_struct<E: ser::Error>() -> E {
    E::custom("only a struct can be shaped into a resource")
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<S::Ok, S::Error> {
            Err(not_a_struct())
        })*
    };
}

impl<'s, 'a, T: Serialize, S: Serializer> Serializer for Filter<'s, 'a, T, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = FilterStruct<'s, 'a, T, S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(FilterStruct {
            shaped: self.shaped,
            map: self.out.serialize_map(None)?,
        })
    }

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<V: ?Sized + Serialize>(self, _: &V) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &V,
    ) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_a_struct())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Serialize)]
    struct Thing {
        uuid: &'static str,
        name: &'static str,
        secret: serde_json::Map<String, Value>,
        newer: u32,
        internal: bool,
    }

    static THING_FIELDS: FieldSet = FieldSet::new(
        &[("uuid", 1), ("name", 1), ("secret", 1), ("newer", 50)],
        &["uuid", "name"],
    );

    fn thing() -> Thing {
        Thing {
            uuid: "u1",
            name: "n",
            secret: json!({"password": "pw", "host": "h"})
                .as_object()
                .unwrap()
                .clone(),
            newer: 7,
            internal: true,
        }
    }

    fn render(thing: &Thing, minor: u16, selection: &Selection) -> Value {
        let mut shaped = Shaped::new(
            thing,
            &THING_FIELDS,
            Microversion::v1(minor),
            selection,
            "http://h:1",
            format!("things/{}", thing.uuid),
        );
        shaped
            .replace(
                "secret",
                Replacement::Masked(ferric_types::secrets::masked(&thing.secret, &[])),
            )
            .hide(&["internal"])
            .sub_resource("parts");
        shaped.to_value()
    }

    #[test]
    fn the_full_view_shows_what_the_version_knows_masked_with_links() {
        let t = thing();
        let links = |sub: &str| {
            json!([
                {"href": format!("http://h:1/v1/things/u1{sub}"), "rel": "self"},
                {"href": format!("http://h:1/things/u1{sub}"), "rel": "bookmark"},
            ])
        };
        assert_eq!(
            render(&t, 49, &Selection::Full),
            json!({"uuid": "u1", "name": "n", "secret": {"password": "******", "host": "h"},
                   "links": links(""), "parts": links("/parts")})
        );
        assert_eq!(render(&t, 50, &Selection::Full)["newer"], 7);
    }

    #[test]
    fn short_and_chosen_views_keep_only_their_fields_and_links() {
        let t = thing();
        let short = render(&t, 50, &Selection::Short);
        assert_eq!(
            short.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["links", "name", "uuid"]
        );
        let only = Selection::Only(vec!["newer".into(), "internal".into()]);
        let chosen = render(&t, 50, &only);
        assert_eq!(chosen.as_object().unwrap().len(), 2);
        assert_eq!(chosen["newer"], 7);
        assert!(render(&t, 49, &only).get("newer").is_none());
    }

    #[test]
    fn only_a_struct_can_be_shaped() {
        let selection = Selection::Full;
        let not_a_struct = 5u8;
        let shaped = Shaped::new(
            &not_a_struct,
            &THING_FIELDS,
            Microversion::v1(1),
            &selection,
            "",
            String::new(),
        );
        assert!(serde_json::to_string(&shaped).is_err());
    }
}
