//! Collection requests: the query parameters every list takes (`limit`, `marker`,
//! `sort_key`, `sort_dir`, `fields`, `detail`), strict parsing of the rest, and the
//! collection body with its `next` link, serialised straight from the items
//! (`chunked` writes it).

use axum::response::{IntoResponse, Response};
use ferric_db::{ListQuery, SortDir};
use ferric_types::Microversion;
use serde::Serialize;

use crate::chunked::{Chunk, Listing};

use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};

/// Where a list is served: its URL path (for `next` links) and whether it is a
/// `/detail` path (which shows every field).
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub path: &'a str,
    pub detail: bool,
}

impl<'a> Served<'a> {
    pub const fn at(path: &'a str, detail: bool) -> Self {
        Self { path, detail }
    }
}

/// Query parameters of a request, in order, strictly consumed.
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// Takes a parameter (the last value when repeated).
    pub fn take(&mut self, name: &str) -> Option<String> {
        let mut found = None;
        self.pairs.retain(|(k, v)| {
            if k == name {
                found = Some(v.clone());
                false
            } else {
                true
            }
        });
        found
    }

    /// Takes a parameter introduced at `1.minor`; naming it earlier is a 406.
    pub fn take_since(
        &mut self,
        name: &str,
        minor: u16,
        version: Microversion,
    ) -> Result<Option<String>, ApiError> {
        let value = self.take(name);
        if value.is_some() && !version.at_least(minor) {
            return Err(ApiError::not_acceptable(format!(
                "The parameter \"{name}\" is not available in API version {version}."
            )));
        }
        Ok(value)
    }

    /// Refuses whatever parameters nobody took.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.pairs.first() {
            None => Ok(()),
            Some((k, _)) => Err(ApiError::bad_request(format!("Unexpected arguments: {k}"))),
        }
    }
}

/// Parses a query boolean the way Ironic does.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "Invalid {name}: Unrecognized value '{value}', acceptable values are: \
             '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
        ))),
    }
}

/// The paging and shaping part of a list request.
pub struct Paging {
    pub limit: i64,
    pub marker: Option<String>,
    pub sort_key: Option<&'static str>,
    pub sort_key_text: Option<String>,
    pub sort_dir: SortDir,
    pub selection: Selection,
    pub fields_text: Option<String>,
    pub detail_flag: Option<bool>,
}

impl Paging {
    /// Parses the common parameters. `detail_path` is true for `…/detail`.
    pub fn parse(
        params: &mut Params,
        version: Microversion,
        max_limit: i64,
        fields: &FieldSet,
        sort_column: fn(&str) -> Option<&'static str>,
        not_sortable: &[&str],
        detail_path: bool,
    ) -> Result<Paging, ApiError> {
        let limit = match params.take("limit") {
            None => max_limit,
            Some(text) => {
                let n: i64 = text.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid value for limit: {text:?} is not an integer."
                    ))
                })?;
                if n <= 0 {
                    return Err(ApiError::bad_request("Limit must be positive"));
                }
                n.min(max_limit)
            }
        };
        let marker = params.take("marker");
        if let Some(m) = &marker {
            ferric_types::ids::parse_uuid(m).map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        let sort_key_text = params.take("sort_key");
        let sort_key = match &sort_key_text {
            None => None,
            Some(k)
                if not_sortable.contains(&k.as_str())
                    || (k != "id" && !fields.visible(k, version)) =>
            {
                return Err(ApiError::bad_request(format!(
                    "The sort_key value \"{k}\" is an invalid field for sorting"
                )))
            }
            Some(k) => Some(sort_column(k).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "The sort_key value \"{k}\" is an invalid field for sorting"
                ))
            })?),
        };
        let sort_dir = match params.take("sort_dir").as_deref() {
            None | Some("asc") => SortDir::Asc,
            Some("desc") => SortDir::Desc,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid sort direction: {other}. Acceptable values are 'asc' or 'desc'"
                )))
            }
        };
        let fields_text = params.take_since("fields", 8, version)?;
        let detail_flag = match params.take_since("detail", 43, version)? {
            None => None,
            Some(v) => Some(parse_bool("detail", &v)?),
        };
        if detail_path && detail_flag.is_some() {
            return Err(ApiError::bad_request("Unexpected arguments: detail"));
        }
        if detail_path && fields_text.is_some() {
            return Err(ApiError::bad_request("Unexpected arguments: fields"));
        }
        if detail_flag == Some(true) && fields_text.is_some() {
            return Err(ApiError::bad_request(
                "Can not specify ?detail=True and fields in the same request.",
            ));
        }
        let selection = match (&fields_text, detail_path || detail_flag == Some(true)) {
            (Some(csv), _) => Selection::Only(fields.parse_selection(csv, version)?),
            (None, true) => Selection::Full,
            (None, false) => Selection::Short,
        };
        Ok(Paging {
            limit,
            marker,
            sort_key,
            sort_key_text,
            sort_dir,
            selection,
            fields_text,
            detail_flag,
        })
    }

    /// Maps a listing's database error: an unknown marker is a 404 naming `what`
    /// ("Node", "Port"…).
    pub fn list_error<'a>(
        &'a self,
        what: &'a str,
    ) -> impl FnOnce(ferric_db::DbError) -> ApiError + 'a {
        marker_error(what, self.marker.clone())
    }

    /// The database query for one page with the given filters.
    pub fn query(&self, conds: Vec<ferric_db::Cond>) -> ListQuery {
        ListQuery {
            conds,
            sort_key: self.sort_key,
            sort_dir: self.sort_dir,
            marker: self.marker.clone(),
            limit: Some(self.limit),
        }
    }

    /// How a listing of this page answers; `link` builds its `next` link (none
    /// without).
    pub fn listing(&self, name: &'static str, link: Option<&NextLink>) -> Listing {
        Listing {
            name,
            marker: self.marker.clone(),
            limit: self.limit,
            next_prefix: link.map(|l| self.next_prefix(l)),
        }
    }

    /// `{"<name>": items, "next": …}` for rows already fetched; `next` only when the
    /// page is full.
    pub fn collection<I: Serialize>(
        &self,
        name: &'static str,
        items: Vec<I>,
        last_uuid: Option<String>,
        link: &NextLink,
    ) -> Response {
        match Chunk::of(items, last_uuid) {
            Ok(chunk) => self.listing(name, Some(link)).whole(chunk),
            Err(e) => e.into_response(),
        }
    }

    /// The URL of the next page, up to the marker (the UUID of this page's last row).
    fn next_prefix(&self, link: &NextLink) -> String {
        let NextLink {
            base,
            url_path,
            carried,
            default_fields,
        } = *link;
        let mut args: Vec<(String, String)> = vec![
            (
                "sort_key".into(),
                self.sort_key_text.clone().unwrap_or_else(|| "id".into()),
            ),
            (
                "sort_dir".into(),
                if self.sort_dir == SortDir::Desc {
                    "desc"
                } else {
                    "asc"
                }
                .into(),
            ),
        ];
        args.extend(carried.iter().cloned());
        match (&self.selection, &self.fields_text) {
            (_, Some(f)) => args.push(("fields".into(), f.clone())),
            (Selection::Short, None) => args.push(("fields".into(), default_fields.join(","))),
            _ => {}
        }
        if self.detail_flag == Some(true) {
            args.push(("detail".into(), "True".into()));
        }
        let mut query = String::new();
        for (k, v) in &args {
            query.push_str(&format!("{}={}&", encode(k), encode(v)));
        }
        format!("{base}/v1/{url_path}?{query}limit={}&marker=", self.limit)
    }
}

/// Maps a listing's database error: an unknown `marker` is a 404 naming `what`.
pub fn marker_error(
    what: &str,
    marker: Option<String>,
) -> impl FnOnce(ferric_db::DbError) -> ApiError + '_ {
    move |e| match e {
        ferric_db::DbError::NotFound => ApiError::not_found(format!(
            "{what} {} could not be found.",
            marker.as_deref().unwrap_or_default()
        )),
        other => other.into(),
    }
}

/// What the `next` link of a collection is made of.
#[derive(Clone, Copy)]
pub struct NextLink<'a> {
    /// The base URL (scheme, host, port).
    pub base: &'a str,
    /// The collection path under `/v1/` (`nodes`, `nodes/detail`…).
    pub url_path: &'a str,
    /// Filters to repeat in the link.
    pub carried: &'a [(String, String)],
    /// The resource's short field set, spelled out for plain listings.
    pub default_fields: &'a [&'a str],
}

/// Percent-encodes a query component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
