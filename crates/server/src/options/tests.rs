//! The option table held to the code: the file's serde structs, ferricd's
//! flags, and the generated reference in docs/.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::*;
use crate::config::{FileConfig, SwitchConfig};

/// What a struct deserializer asks for, recorded: every field path it names
/// (`boot.tftp_listen`) and the paths that are themselves structs (sections).
#[derive(Default)]
struct Seen {
    fields: BTreeSet<String>,
    structs: BTreeSet<String>,
}

/// A deserializer that hands out nothing but empty values and walks into every
/// struct, to learn the field names serde knows for a type.
struct Lister<'a> {
    path: String,
    seen: &'a RefCell<Seen>,
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Refused(msg.to_string())
    }
}

struct Fields<'a> {
    lister: Lister<'a>,
    fields: &'static [&'static str],
    at: usize,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Refused;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        match self.fields.get(self.at) {
            Some(name) => seed.deserialize((*name).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let name = self.fields[self.at];
        self.at += 1;
        let path = if self.lister.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.lister.path)
        };
        seed.deserialize(Lister {
            path,
            seen: self.lister.seen,
        })
    }
}

struct Empty;

impl<'de> SeqAccess<'de> for Empty {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        _: T,
    ) -> Result<Option<T::Value>, Refused> {
        Ok(None)
    }
}

impl<'de> MapAccess<'de> for Empty {
    type Error = Refused;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        _: K,
    ) -> Result<Option<K::Value>, Refused> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, Refused> {
        Err(Refused("no value".into()))
    }
}

impl<'de> de::Deserializer<'de> for Lister<'_> {
    type Error = Refused;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_unit()
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Refused> {
        {
            let mut seen = self.seen.borrow_mut();
            if !self.path.is_empty() {
                seen.structs.insert(self.path.clone());
            }
            for f in fields {
                let path = if self.path.is_empty() {
                    f.to_string()
                } else {
                    format!("{}.{f}", self.path)
                };
                seen.fields.insert(path);
            }
        }
        v.visit_map(Fields {
            lister: self,
            fields,
            at: 0,
        })
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_none()
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_seq(Empty)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_map(Empty)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_bool(false)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_u64(0)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_str("")
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_str("")
    }
    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct tuple tuple_struct enum identifier ignored_any
    }
}

/// Every field path serde knows for `T`, under `path`, and which are sections.
fn fields_of<'de, T: Deserialize<'de>>(path: &str) -> Seen {
    let seen = RefCell::new(Seen::default());
    T::deserialize(Lister {
        path: path.to_string(),
        seen: &seen,
    })
    .unwrap_or_else(|e| panic!("walking {path:?}: {e}"));
    seen.into_inner()
}

fn path_of(opt: &Opt) -> String {
    if opt.section.is_empty() {
        opt.key.to_string()
    } else {
        format!("{}.{}", opt.section, opt.key)
    }
}

#[test]
fn the_table_names_every_field_of_the_file_and_nothing_else() {
    let file = fields_of::<FileConfig>("");
    let switches = fields_of::<SwitchConfig>("network.switches");
    let mut options: BTreeSet<String> = file
        .fields
        .difference(&file.structs)
        .filter(|p| !ARRAY_SECTIONS.contains(&p.as_str()))
        .cloned()
        .collect();
    options.extend(switches.fields);
    let table: BTreeSet<String> = OPTIONS.iter().map(path_of).collect();
    assert_eq!(
        table.len(),
        OPTIONS.len(),
        "an option is in the table twice"
    );
    let missing: Vec<_> = options.difference(&table).collect();
    let extra: Vec<_> = table.difference(&options).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "options_table.rs lacks {missing:?} and has {extra:?}, which the file does not know"
    );
}

#[test]
fn the_example_parses_with_every_option_set() {
    let example = example();
    let uncommented: String = example
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest)
                if rest.starts_with("[[")
                    || rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    if let Err(e) = toml::from_str::<FileConfig>(&uncommented) {
        panic!("the example with every option set does not parse: {e}\n{uncommented}");
    }
    let commented: FileConfig = toml::from_str(&example).expect("the example as printed parses");
    drop(commented);
}

#[test]
fn every_flag_named_is_ferricds() {
    let envs = flag_envs();
    for opt in OPTIONS {
        if let Some(flag) = opt.flag {
            assert!(
                envs.contains_key(flag),
                "{}: ferricd has no flag {flag} with an environment variable",
                path_of(opt)
            );
        }
    }
}

#[test]
fn docs_configuration_md_is_what_the_table_gives() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        written == reference(),
        "docs/configuration.md is stale: run `cargo run --bin ferricd -- config reference > docs/configuration.md`"
    );
}
