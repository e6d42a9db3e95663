//! Writing a large listing without holding it. Rows are fetched and serialised in
//! chunks of at most [`CHUNK`]: a page of up to one chunk goes out as one body, a
//! larger one (an operator who raised `max_limit`) streams, each chunk fetched after
//! the previous one was written, so the memory a listing takes does not grow with
//! its page. The chunks follow one another by marker, the way a client pages.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ferric_db::{DbError, ListQuery};
use serde::Serialize;

use crate::error::ApiError;
use crate::listing::marker_error;

/// Rows fetched per query.
pub const CHUNK: i64 = 1000;

/// Rows of one chunk, serialised.
pub struct Chunk {
    /// The items, comma-separated, without brackets.
    json: Vec<u8>,
    count: usize,
    /// The UUID of the chunk's last row (the next chunk's marker).
    last: Option<String>,
}

impl Chunk {
    /// Serialises `items`; `last` is the UUID of the last row they come from.
    pub fn of<I: Serialize>(
        items: impl IntoIterator<Item = I>,
        last: Option<String>,
    ) -> Result<Chunk, ApiError> {
        let mut json = Vec::new();
        let mut count = 0;
        for item in items {
            if count > 0 {
                json.push(b',');
            }
            serde_json::to_writer(&mut json, &item).map_err(|e| {
                tracing::error!("rendering a listing failed: {e}");
                ApiError::internal()
            })?;
            count += 1;
        }
        Ok(Chunk { json, count, last })
    }
}

/// A chunk being fetched.
pub type ChunkFuture = Pin<Box<dyn Future<Output = Result<Chunk, ApiError>> + Send>>;

/// Fetches and serialises at most `limit` rows after the row `marker`.
pub type Source = Box<dyn FnMut(Option<String>, i64) -> ChunkFuture + Send>;

/// A source that reads rows with `fetch` (a 404 naming `what` for an unknown
/// marker) and serialises them with `render`.
pub fn rows<T, F, Fut, R>(query: ListQuery, what: &'static str, fetch: F, render: R) -> Source
where
    T: Send + 'static,
    F: Fn(ListQuery) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<T>, DbError>> + Send + 'static,
    R: Fn(Vec<T>) -> Result<Chunk, ApiError> + Send + Sync + 'static,
{
    let render = Arc::new(render);
    Box::new(move |marker, limit| {
        let missing = marker.clone();
        let page = fetch(ListQuery {
            marker,
            limit: Some(limit),
            ..query.clone()
        });
        let render = render.clone();
        Box::pin(async move { render(page.await.map_err(marker_error(what, missing))?) })
    })
}

/// What a listing answers with.
pub struct Listing {
    /// The collection's name in the body (`nodes`, `ports`…).
    pub name: &'static str,
    /// The page's first marker and size.
    pub marker: Option<String>,
    pub limit: i64,
    /// The `next` link up to its marker; `None` when the listing has none.
    pub next_prefix: Option<String>,
}

impl Listing {
    /// `{"<name>": [...], "next": …}` from `source`; `next` only when the page is full.
    /// An error fetching the first chunk (an unknown marker) is the answer; a later one
    /// cuts the streamed body short.
    pub async fn respond(self, mut source: Source) -> Result<Response, ApiError> {
        let first = source(self.marker.clone(), self.limit.min(CHUNK)).await?;
        if self.limit <= CHUNK || (first.count as i64) < CHUNK {
            return Ok(self.whole(first));
        }
        let mut body = self.opening();
        body.extend_from_slice(&first.json);
        let state = Streaming {
            source,
            written: first.count as i64,
            last: first.last,
            done: false,
            listing: self,
        };
        let head = futures_util::stream::once(async move { Ok(Bytes::from(body)) });
        let rest = futures_util::stream::unfold(Some(state), |state| async move {
            let mut st = state?;
            if st.done || st.written >= st.listing.limit {
                let tail = st.listing.closing(st.written, st.last.as_deref());
                return Some((Ok(Bytes::from(tail)), None));
            }
            let want = (st.listing.limit - st.written).min(CHUNK);
            match (st.source)(st.last.clone(), want).await {
                Ok(chunk) => {
                    let mut out = Vec::with_capacity(chunk.json.len() + 1);
                    if chunk.count > 0 {
                        out.push(b',');
                        out.extend_from_slice(&chunk.json);
                    }
                    st.written += chunk.count as i64;
                    st.done = (chunk.count as i64) < want;
                    st.last = chunk.last.or(st.last);
                    Some((Ok(Bytes::from(out)), Some(st)))
                }
                Err(e) => {
                    tracing::error!(
                        "a streamed {} listing stopped: {}",
                        st.listing.name,
                        e.message
                    );
                    Some((Err(std::io::Error::other("listing failed")), None))
                }
            }
        });
        Ok(json(Body::from_stream(futures_util::StreamExt::chain(
            head, rest,
        ))))
    }

    /// The body of a page that is all in `chunk`.
    pub fn whole(self, chunk: Chunk) -> Response {
        let mut body = self.opening();
        body.extend_from_slice(&chunk.json);
        body.extend_from_slice(&self.closing(chunk.count as i64, chunk.last.as_deref()));
        json(Body::from(body))
    }

    fn opening(&self) -> Vec<u8> {
        format!("{{\"{}\":[", self.name).into_bytes()
    }

    /// `]`, the `next` link when `written` filled the page, `}`.
    fn closing(&self, written: i64, last: Option<&str>) -> Vec<u8> {
        let mut tail = b"]".to_vec();
        if let (true, Some(prefix), Some(last)) = (written == self.limit, &self.next_prefix, last) {
            tail.extend_from_slice(b",\"next\":");
            let link = format!("{prefix}{last}");
            tail.extend_from_slice(serde_json::Value::from(link).to_string().as_bytes());
        }
        tail.push(b'}');
        tail
    }
}

/// A streamed listing between chunks.
struct Streaming {
    source: Source,
    written: i64,
    last: Option<String>,
    done: bool,
    listing: Listing,
}

fn json(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
