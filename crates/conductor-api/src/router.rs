//! What the API holds to reach conductors: each node call goes to the conductor
//! owning the node on the ring of its conductor group — this process's own
//! conductor directly, any other over JSON-RPC — and, when that conductor cannot be
//! reached (the call never arrived), to the next owner on the ring, after reading
//! the membership again. Only when no conductor of the group answers is the call
//! refused, with 503.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferric_db::{Datastore, DbError};
use ferric_types::NodeId;

use crate::client::RemoteConductor;
use crate::{BoxFuture, CallError, ConductorApi, ErrorKind, RingCache};

/// This process's conductor, if it runs one.
pub struct LocalConductor {
    pub host: String,
    pub conductor: Arc<dyn ConductorApi>,
}

/// How this process calls conductors elsewhere: the shared secret and the HTTP
/// client (with the CA it trusts).
pub struct RemoteAccess {
    pub secret: String,
    pub http: reqwest::Client,
}

/// Routes calls to the conductors that own their nodes.
pub struct ConductorRouter {
    db: Datastore,
    rings: Arc<RingCache>,
    local: Option<LocalConductor>,
    remote: Option<RemoteAccess>,
    clients: Mutex<HashMap<String, Arc<RemoteConductor>>>,
}

impl ConductorRouter {
    pub fn new(
        db: Datastore,
        rings: Arc<RingCache>,
        local: Option<LocalConductor>,
        remote: Option<RemoteAccess>,
    ) -> Self {
        Self {
            db,
            rings,
            local,
            remote,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn rings(&self) -> &Arc<RingCache> {
        &self.rings
    }

    /// The conductor `host` as something to call.
    fn target(
        &self,
        host: &str,
        rpc_url: Option<&str>,
    ) -> Result<Arc<dyn ConductorApi>, CallError> {
        if let Some(l) = self.local.as_ref().filter(|l| l.host == host) {
            return Ok(l.conductor.clone());
        }
        let unreachable = |why: String| {
            CallError::new(ErrorKind::Unreachable, format!("conductor {host}: {why}"))
        };
        let url =
            rpc_url.ok_or_else(|| unreachable("it has no RPC listener (--rpc-listen)".into()))?;
        let remote = self.remote.as_ref().ok_or_else(|| {
            unreachable("this process has no RPC secret ([rpc] secret_file) to call it with".into())
        })?;
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let key = format!("{host} {url}");
        let client = clients.entry(key).or_insert_with(|| {
            Arc::new(RemoteConductor::new(
                host,
                url,
                &remote.secret,
                remote.http.clone(),
            ))
        });
        Ok(client.clone())
    }

    async fn group_of(&self, node: NodeId) -> Result<String, CallError> {
        match self.db.node_conductor_group(node).await {
            Ok(group) => Ok(group.to_ascii_lowercase()),
            Err(DbError::NotFound) => Err(CallError::new(
                ErrorKind::NotFound,
                format!("Node {node} could not be found."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `call` on the node's owner, or on the next owner while the ones before
    /// cannot be reached.
    pub(crate) async fn for_node<T>(
        &self,
        node: NodeId,
        call: impl Fn(Arc<dyn ConductorApi>) -> BoxFuture<'static, Result<T, CallError>> + Send + Sync,
    ) -> Result<T, CallError> {
        let group = self.group_of(node).await?;
        let key = node.to_string();
        self.with_candidates(&call, |rings| {
            rings.owners(&key, &group).into_iter().map(str::to_string).collect()
        })
        .await
        .map_err(|e| match e {
            None => CallError::new(
                ErrorKind::Unavailable,
                format!("No conductor is serving conductor group \"{group}\" of node {node}; retry when one is."),
            ),
            Some(e) => e,
        })
    }

    /// Runs `call` on this process's conductor, or any that answers.
    pub(crate) async fn for_any<T>(
        &self,
        call: impl Fn(Arc<dyn ConductorApi>) -> BoxFuture<'static, Result<T, CallError>> + Send + Sync,
    ) -> Result<T, CallError> {
        let local = self.local.as_ref().map(|l| l.host.clone());
        self.with_candidates(&call, |rings| {
            let mut hosts: Vec<String> = rings.hosts().map(str::to_string).collect();
            hosts.sort();
            // This process's own conductor first.
            hosts.sort_by_key(|h| Some(h) != local.as_ref());
            hosts
        })
        .await
        .map_err(|e| {
            e.unwrap_or_else(|| {
                CallError::new(
                    ErrorKind::Unavailable,
                    "No conductor is alive; retry when one is.",
                )
            })
        })
    }

    /// Tries the candidates in order, reading the membership once more when all of
    /// them were unreachable. `Err(None)`: there was no candidate at all.
    async fn with_candidates<T, C>(
        &self,
        call: &C,
        candidates: impl Fn(&crate::ring::Rings) -> Vec<String>,
    ) -> Result<T, Option<CallError>>
    where
        C: Fn(Arc<dyn ConductorApi>) -> BoxFuture<'static, Result<T, CallError>>,
    {
        let mut tried: Vec<String> = Vec::new();
        let mut last = None;
        for fresh in [false, true] {
            if fresh {
                self.rings.invalidate().await;
            }
            let rings = self.rings.rings().await.map_err(Some)?;
            for host in candidates(&rings) {
                if tried.contains(&host) {
                    continue;
                }
                let url = rings.rpc_url(&host).flatten();
                let outcome = match self.target(&host, url) {
                    Ok(target) => call(target).await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Err(e) if e.kind == ErrorKind::Unreachable => {
                        tracing::warn!(conductor = %host, error = %e, "conductor unreachable; trying the next owner");
                        tried.push(host);
                        last = Some(e);
                    }
                    other => return other.map_err(Some),
                }
            }
        }
        Err(last)
    }
}
