//! The subset of Python's `str.format` syntax that rule arguments use:
//! `{root[key][0].attr!conversion}` fields between literal text, `{{`/`}}` escapes.
//! Parsing only; `interpolate` resolves the fields. Errors carry the Python exception
//! class Ironic would have seen, because a failed interpolation leaves the text as it
//! was and `is-empty` treats a `KeyError` specially.

use std::borrow::Cow;

/// Why a template could not be formatted, by Python's exception class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormatError {
    Key(String),
    Index(String),
    Attribute(String),
    Type(String),
    Value(String),
}

impl FormatError {
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Self::Key(_) => "KeyError",
            Self::Index(_) => "IndexError",
            Self::Attribute(_) => "AttributeError",
            Self::Type(_) => "TypeError",
            Self::Value(_) => "ValueError",
        }
    }

    pub(crate) fn detail(&self) -> &str {
        match self {
            Self::Key(s) | Self::Index(s) | Self::Attribute(s) | Self::Type(s) | Self::Value(s) => {
                s
            }
        }
    }
}

/// One step after a field's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Accessor<'t> {
    /// `.name`
    Attr(&'t str),
    /// `[key]`: digits index a sequence, anything else is a string key.
    Item(&'t str),
}

/// A replacement field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field<'t> {
    pub root: &'t str,
    pub path: Vec<Accessor<'t>>,
    pub conversion: Option<char>,
    pub spec: &'t str,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'t> {
    Text(Cow<'t, str>),
    Field(Field<'t>),
}

/// True when `s` has nothing to format (Python returns it unchanged).
pub(crate) fn is_plain(s: &str) -> bool {
    !s.contains(['{', '}'])
}

/// Splits a template into text and fields.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece<'_>>, FormatError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                text.push_str(&template[text_start..=i]);
                i += 2;
                text_start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                text.push_str(&template[text_start..=i]);
                i += 2;
                text_start = i;
            }
            b'}' => {
                return Err(FormatError::Value(
                    "Single '}' encountered in format string".into(),
                ))
            }
            b'{' => {
                text.push_str(&template[text_start..i]);
                if !text.is_empty() {
                    pieces.push(Piece::Text(Cow::Owned(std::mem::take(&mut text))));
                }
                let (field, end) = parse_field(template, i + 1)?;
                pieces.push(Piece::Field(field));
                i = end;
                text_start = i;
            }
            _ => i += 1,
        }
    }
    text.push_str(&template[text_start..]);
    if !text.is_empty() {
        pieces.push(Piece::Text(Cow::Owned(text)));
    }
    Ok(pieces)
}

/// Parses the field starting at byte `start` (just after `{`); returns it and the
/// index just after its closing `}`.
fn parse_field(t: &str, start: usize) -> Result<(Field<'_>, usize), FormatError> {
    let bytes = t.as_bytes();
    let unclosed = || FormatError::Value("expected '}' before end of string".into());
    // The field name runs to `!`, `:` or `}`; brackets may hold any of those.
    let mut i = start;
    loop {
        match bytes.get(i) {
            None => return Err(unclosed()),
            Some(b'[') => {
                while bytes.get(i).is_some_and(|b| *b != b']') {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(unclosed());
                }
                i += 1;
            }
            Some(b'{') => return Err(FormatError::Value("unexpected '{' in field name".into())),
            Some(b'!' | b':' | b'}') => break,
            Some(_) => i += 1,
        }
    }
    let name = &t[start..i];
    let mut conversion = None;
    if bytes[i] == b'!' {
        let c = t[i + 1..].chars().next().ok_or_else(unclosed)?;
        conversion = Some(c);
        i += 1 + c.len_utf8();
        match bytes.get(i) {
            Some(b':' | b'}') => {}
            None => return Err(unclosed()),
            Some(_) => {
                return Err(FormatError::Value(
                    "expected ':' after conversion specifier".into(),
                ))
            }
        }
    }
    let mut spec = "";
    if bytes[i] == b':' {
        let spec_start = i + 1;
        let mut depth = 1;
        i = spec_start;
        loop {
            match bytes.get(i) {
                None => return Err(unclosed()),
                Some(b'{') => depth += 1,
                Some(b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Some(_) => {}
            }
            i += 1;
        }
        spec = &t[spec_start..i];
    }
    let (root, path) = parse_name(name)?;
    Ok((
        Field {
            root,
            path,
            conversion,
            spec,
        },
        i + 1,
    ))
}

fn parse_name(name: &str) -> Result<(&str, Vec<Accessor<'_>>), FormatError> {
    let root_end = name.find(['.', '[']).unwrap_or(name.len());
    let root = &name[..root_end];
    let mut path = Vec::new();
    let mut rest = &name[root_end..];
    let empty = || FormatError::Value("Empty attribute in format string".into());
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(empty());
            }
            path.push(Accessor::Attr(&after[..end]));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| FormatError::Value("Missing ']' in format string".into()))?;
            if end == 0 {
                return Err(empty());
            }
            path.push(Accessor::Item(&after[..end]));
            rest = &after[end + 1..];
            if !rest.is_empty() && !rest.starts_with(['.', '[']) {
                return Err(FormatError::Value(
                    "Only '.' or '[' may follow ']' in format field specifier".into(),
                ));
            }
        } else {
            return Err(empty());
        }
    }
    Ok((root, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: &str) -> Field<'_> {
        match parse(t).unwrap().pop() {
            Some(Piece::Field(f)) => f,
            other => panic!("no field: {other:?}"),
        }
    }

    #[test]
    fn parses_fields_and_text() {
        let pieces = parse("CPU: {inventory[cpu][count]}, {{x}} {node.driver}").unwrap();
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[0], Piece::Text("CPU: ".into()));
        assert_eq!(pieces[2], Piece::Text(", {x} ".into()));
        let f = field("{inventory[interfaces][0][mac_address]}");
        assert_eq!(f.root, "inventory");
        assert_eq!(
            f.path,
            vec![
                Accessor::Item("interfaces"),
                Accessor::Item("0"),
                Accessor::Item("mac_address")
            ]
        );
        let f = field("{node.properties[a:b]!r}");
        assert_eq!(
            f.path,
            vec![Accessor::Attr("properties"), Accessor::Item("a:b")]
        );
        assert_eq!(f.conversion, Some('r'));
        assert_eq!(field("{x:>10}").spec, ">10");
    }

    #[test]
    fn malformed_templates_are_value_errors() {
        for t in [
            "{", "}", "a}b", "{x", "{x[a}", "{x[a]b}", "{x.}", "{x!}", "{x!rr}", "{a{b}}",
        ] {
            assert!(
                matches!(parse(t), Err(FormatError::Value(_))),
                "{t} should not parse"
            );
        }
        assert!(is_plain("no fields"));
        assert!(!is_plain("a}"));
    }
}
